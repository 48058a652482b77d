namespace RlhfCore.Optim;

/// <summary>
/// The optimizer settings every trainer's options record carries (SFT, reward model, DPO, PPO), each with
/// its own defaults and CLI descriptions. The checks and the AdamW settings derived from them live here once.
/// </summary>
public interface IOptimizerSettings
{
    /// <summary>Optimizer steps (rollout steps for PPO).</summary>
    int Steps { get; }
    /// <summary>Peak learning rate.</summary>
    float Lr { get; }
    /// <summary>Linear warmup steps.</summary>
    int Warmup { get; }
    /// <summary>Global gradient-norm clip (0 = off).</summary>
    float GradClip { get; }
    /// <summary>AdamW β1.</summary>
    float Beta1 { get; }
    /// <summary>AdamW β2.</summary>
    float Beta2 { get; }
    /// <summary>AdamW ε.</summary>
    float Eps { get; }
    /// <summary>Decoupled weight decay on 2-D weights.</summary>
    float WeightDecay { get; }
}

/// <summary>Checks and derived values of <see cref="IOptimizerSettings"/>.</summary>
public static class OptimizerSettings
{
    /// <summary>Throws naming the flag when steps, learning rate, warmup, clipping or an AdamW setting is out of range.</summary>
    public static void ValidateOptimizer(this IOptimizerSettings o)
    {
        if (o.Steps < 1) throw new ArgumentException($"--steps must be positive, got {o.Steps}");
        if (!(o.Lr > 0)) throw new ArgumentException($"--lr must be positive, got {o.Lr}");
        if (o.Warmup < 0) throw new ArgumentException($"--warmup must be ≥ 0, got {o.Warmup}");
        if (!(o.GradClip >= 0)) throw new ArgumentException($"--grad-clip must be ≥ 0, got {o.GradClip}");
        o.AdamW().Validate();
    }

    /// <summary>The AdamW hyperparameters of <paramref name="o"/>.</summary>
    public static AdamWOptions AdamW(this IOptimizerSettings o) => new(o.Beta1, o.Beta2, o.Eps, o.WeightDecay);
}
