using RlhfCore.Training.Core;

namespace RlhfCore.Optim;

/// <summary>
/// The optimizer settings every trainer's options record carries (SFT, reward model, DPO, PPO), each with
/// its own defaults and CLI descriptions. Their ranges are declared here once, as <see cref="BoundsAttribute"/>s that <see cref="OptionBounds"/> checks for every implementing record; the AdamW settings derived from them live here too.
/// </summary>
public interface IOptimizerSettings
{
    /// <summary>Optimizer steps (rollout steps for PPO).</summary>
    [Bounds(1, Limits.MaxSteps)]
    int Steps { get; }
    /// <summary>Peak learning rate.</summary>
    [Bounds(0, Limits.MaxLr, MinExclusive = true, Why = Limits.LrWhy)]
    float Lr { get; }
    /// <summary>Linear warmup steps.</summary>
    [Bounds(0, Limits.MaxSteps)]
    int Warmup { get; }
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    [Bounds(0, Limits.MaxThreshold)]
    float GradClip { get; }
    /// <summary>AdamW β1.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float Beta1 { get; }
    /// <summary>AdamW β2.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float Beta2 { get; }
    /// <summary>AdamW ε.</summary>
    [Bounds(0, 1, MinExclusive = true)]
    float Eps { get; }
    /// <summary>Decoupled weight decay on 2-D weights.</summary>
    [Bounds(0, 1, Why = "decoupled decay scales each 2-D weight by 1 − lr × decay per step")]
    float WeightDecay { get; }
}

/// <summary>Derived values of <see cref="IOptimizerSettings"/>.</summary>
public static class OptimizerSettings
{
    /// <summary>The AdamW hyperparameters of <paramref name="o"/>.</summary>
    public static AdamWOptions AdamW(this IOptimizerSettings o) => new(o.Beta1, o.Beta2, o.Eps, o.WeightDecay);
}
