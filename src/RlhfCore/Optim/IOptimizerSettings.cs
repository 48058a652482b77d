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
    /// <summary>Default update rule of every parameter tensor.</summary>
    OptimizerKind Optimizer { get; }
    /// <summary>SGD momentum μ.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float Momentum { get; }
    /// <summary>Nesterov momentum for SGD.</summary>
    bool Nesterov { get; }
    /// <summary>Lion β1.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float LionBeta1 { get; }
    /// <summary>Lion β2.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float LionBeta2 { get; }
    /// <summary>Muon momentum μ.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    float MuonMomentum { get; }
    /// <summary>Parameter groups, each "pattern:key=value,…" (see <see cref="ParameterGroup"/>).</summary>
    string[] ParamGroup { get; }
}

/// <summary>Derived values of <see cref="IOptimizerSettings"/>.</summary>
public static class OptimizerSettings
{
    /// <summary>The AdamW hyperparameters of <paramref name="o"/>.</summary>
    public static AdamWOptions AdamW(this IOptimizerSettings o) => new(o.Beta1, o.Beta2, o.Eps, o.WeightDecay);

    /// <summary>The whole optimizer configuration of <paramref name="o"/>, its groups parsed (errors name the flag).</summary>
    public static OptimizerConfig OptimizerConfig(this IOptimizerSettings o) =>
        new(o.Optimizer, o.AdamW(), new SgdOptions(o.Momentum, o.Nesterov), new LionOptions(o.LionBeta1, o.LionBeta2), new MuonOptions(o.MuonMomentum),
            [.. (o.ParamGroup ?? []).Select(ParameterGroup.Parse)]);
}
