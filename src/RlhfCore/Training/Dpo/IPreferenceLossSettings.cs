using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// The weights of the preference losses besides DPO's β (ORPO's λ, KTO's class weights, SimPO's margin), carried by
/// <see cref="DpoOptions"/> and by the pipeline's options under the same flag names. Their ranges and help are declared
/// here once, as <see cref="BoundsAttribute"/>s and [Description]s that <see cref="OptionBounds"/> and the CLI read for
/// every implementing record.
/// </summary>
public interface IPreferenceLossSettings
{
    /// <summary>ORPO's λ: the weight of the odds-ratio loss beside the SFT loss (TRL's ORPOConfig beta).</summary>
    [Description("ORPO's λ: the weight of the odds-ratio loss beside the SFT loss (TRL's ORPOConfig beta).")]
    [Bounds(0, Limits.MaxCoefficient)]
    double OrpoLambda { get; }
    /// <summary>KTO's λ_D, the weight of desirable examples (TRL's desirable_weight).</summary>
    [Description("KTO's λ_D, the weight of desirable examples (TRL's desirable_weight).")]
    [Bounds(0, Limits.MaxCoefficient)]
    double DesirableWeight { get; }
    /// <summary>KTO's λ_U, the weight of undesirable examples (TRL's undesirable_weight).</summary>
    [Description("KTO's λ_U, the weight of undesirable examples (TRL's undesirable_weight).")]
    [Bounds(0, Limits.MaxCoefficient)]
    double UndesirableWeight { get; }
    /// <summary>SimPO's target reward margin γ (TRL's simpo_gamma).</summary>
    [Description("SimPO's target reward margin γ (TRL's simpo_gamma); β is --beta.")]
    [Bounds(0, Limits.MaxThreshold)]
    double SimpoGamma { get; }
}

/// <summary>Carrying <see cref="IPreferenceLossSettings"/> between records.</summary>
public static class PreferenceLossSettings
{
    /// <summary><paramref name="o"/> with every preference-loss weight of <paramref name="from"/>.</summary>
    public static DpoOptions CopyWeights(this DpoOptions o, IPreferenceLossSettings from) => o with
    {
        OrpoLambda = from.OrpoLambda, DesirableWeight = from.DesirableWeight, UndesirableWeight = from.UndesirableWeight, SimpoGamma = from.SimpoGamma,
    };
}
