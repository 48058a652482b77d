namespace RlhfCore.Optim;

/// <summary>
/// A parameter group's Adafactor settings (keys <c>adafactor_beta1</c>, <c>adafactor_decay_rate</c>, <c>adafactor_clip_threshold</c>,
/// <c>adafactor_scale_parameter</c>, <c>adafactor_relative_step</c>); a setting left out keeps the run's.
/// </summary>
/// <param name="Beta1">First-moment decay (0 = off).</param>
/// <param name="DecayRate">c in β2_t = 1 − t^(−c).</param>
/// <param name="ClipThreshold">Update clipping threshold d.</param>
/// <param name="ScaleParameter">Scale the rate by max(ε2, RMS(param)).</param>
/// <param name="RelativeStep">Use the paper's rate min(1e-2, 1/√t).</param>
public sealed record AdafactorOverrides(float? Beta1 = null, float? DecayRate = null, float? ClipThreshold = null, bool? ScaleParameter = null, bool? RelativeStep = null)
{
    /// <summary>The group keys, as <c>--param-group</c> spells them.</summary>
    public static readonly string[] Keys = ["adafactor_beta1", "adafactor_decay_rate", "adafactor_clip_threshold", "adafactor_scale_parameter", "adafactor_relative_step"];

    /// <summary><paramref name="run"/> with these settings applied.</summary>
    public AdafactorOptions Apply(AdafactorOptions run) => run with
    {
        Beta1 = Beta1 ?? run.Beta1,
        DecayRate = DecayRate ?? run.DecayRate,
        ClipThreshold = ClipThreshold ?? run.ClipThreshold,
        ScaleParameter = ScaleParameter ?? run.ScaleParameter,
        RelativeStep = RelativeStep ?? run.RelativeStep,
    };
}
