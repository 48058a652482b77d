using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ppo;

/// <summary>
/// The policy-loss and rollout variants of the PPO family (DAPO's clip-higher, dynamic sampling and overlong shaping,
/// dual-clip PPO, Dr. GRPO's aggregation and scaling, GSPO's sequence-level ratio), carried by <see cref="PpoOptions"/>
/// and by the pipeline's options under the same flag names. Their ranges and help are declared here once, as
/// <see cref="BoundsAttribute"/>s and [Description]s that <see cref="OptionBounds"/> and the CLI read for every
/// implementing record; <see cref="PolicyGradientVariants.CopyVariants"/> carries them from one record to another.
/// </summary>
public interface IPolicyGradientVariants
{
    /// <summary>ε_low of the ratio clip, 1 − ε_low below (DAPO's clip-higher); null means the clip range.</summary>
    [Description("ε_low of the ratio clip, 1 − ε_low below (DAPO's clip-higher); empty means --clip-range.")]
    [Bounds(0, 1, MaxExclusive = true)]
    float? ClipLow { get; }
    /// <summary>ε_high of the ratio clip, 1 + ε_high above (DAPO uses 0.28 with clip-low 0.2); null means the clip range.</summary>
    [Description("ε_high of the ratio clip, 1 + ε_high above (DAPO uses 0.28 with clip-low 0.2); empty means --clip-range.")]
    [Bounds(0, Limits.MaxThreshold)]
    float? ClipHigh { get; }
    /// <summary>Dual-clip PPO's c (Ye et al. 2020; verl's clip_ratio_c): for A &lt; 0 the loss is at most −A·c; above 1, 0 = off.</summary>
    [Description("Dual-clip PPO's c (Ye et al. 2020; verl's clip_ratio_c): for A < 0 the loss is at most −A·c; above 1, 0 = off.")]
    [Bounds(0, Limits.MaxThreshold)]
    float DualClip { get; }
    /// <summary>How per-token losses become one: token-mean, seq-mean-token-sum, seq-mean-token-mean or seq-mean-token-sum-norm (Dr. GRPO).</summary>
    [Description("How per-token losses become one: token-mean, seq-mean-token-sum, seq-mean-token-mean or seq-mean-token-sum-norm (Dr. GRPO).")]
    string LossAggregation { get; }
    /// <summary>GRPO's advantage scaling: group (its std), batch (the rollout's std) or none (Dr. GRPO).</summary>
    [Description("GRPO's advantage scaling: group (its std), batch (the rollout's std) or none (Dr. GRPO).")]
    string ScaleRewards { get; }
    /// <summary>Importance ratio per Token (PPO) or per Sequence (GSPO; Rloo and Grpo only).</summary>
    [Description("Importance ratio per Token (PPO) or per Sequence (GSPO; Rloo and Grpo only).")]
    ImportanceLevel ImportanceLevel { get; }
    /// <summary>DAPO's dynamic sampling (Rloo, Grpo): drop prompt groups whose rewards are all equal and draw again to refill.</summary>
    [Description("DAPO's dynamic sampling (Rloo, Grpo): drop prompt groups whose rewards are all equal and draw again to refill.")]
    bool DynamicSampling { get; }
    /// <summary>Rollout draws per step allowed to fill the batch under dynamic sampling (a short batch repeats its kept groups).</summary>
    [Description("Rollout draws per step allowed to fill the batch under dynamic sampling (a short batch repeats its kept groups).")]
    [Bounds(1, 1000)]
    int DynamicSamplingTries { get; }
    /// <summary>DAPO's overlong buffer L_cache: responses longer than the response limit − L_cache lose score linearly (0 = off).</summary>
    [Description("DAPO's overlong buffer L_cache: responses longer than max-new-tokens − L_cache lose score linearly (0 = off).")]
    [Bounds(0, Limits.MaxSeqLen)]
    int OverlongBuffer { get; }
    /// <summary>The overlong penalty at the response limit (DAPO: 1).</summary>
    [Description("The overlong penalty at max-new-tokens (DAPO: 1).")]
    [Bounds(0, Limits.MaxCoefficient)]
    double OverlongPenaltyFactor { get; }
}

/// <summary>Carrying <see cref="IPolicyGradientVariants"/> between records.</summary>
public static class PolicyGradientVariants
{
    /// <summary><paramref name="o"/> with every variant setting of <paramref name="from"/>.</summary>
    public static PpoOptions CopyVariants(this PpoOptions o, IPolicyGradientVariants from) => o with
    {
        ClipLow = from.ClipLow, ClipHigh = from.ClipHigh, DualClip = from.DualClip, LossAggregation = from.LossAggregation,
        ScaleRewards = from.ScaleRewards, ImportanceLevel = from.ImportanceLevel, DynamicSampling = from.DynamicSampling,
        DynamicSamplingTries = from.DynamicSamplingTries, OverlongBuffer = from.OverlongBuffer, OverlongPenaltyFactor = from.OverlongPenaltyFactor,
    };
}
