namespace RlhfCore.Optim;

/// <summary>
/// Adafactor hyperparameters. The defaults are those of Shazeer &amp; Stern 2018 ("Adafactor: Adaptive Learning Rates
/// with Sublinear Memory Cost", Algorithms 4–5 and section 7) as Hugging Face's <c>transformers.optimization.Adafactor</c>
/// and T5 use them: β2_t = 1 − t^(−0.8), update clipping d = 1, ε1 = 1e-30, ε2 = 1e-3, no first moment; but with the
/// run's external learning rate (<c>relative_step=False</c>, <c>scale_parameter=False</c>, the setting Hugging Face's
/// documentation gives for fine-tuning with an explicit rate), so <c>--lr</c> and the schedule mean what they do for
/// the other rules. Weight decay is decoupled (param −= α·wd·param) and comes from the tensor's rule.
/// </summary>
/// <param name="Beta1">First-moment decay; 0 turns the first moment off (no <c>adafactor.m.</c> state).</param>
/// <param name="DecayRate">c in β2_t = 1 − t^(−c).</param>
/// <param name="ClipThreshold">d: the update is divided by max(1, RMS(update)/d).</param>
/// <param name="Eps1">ε1, added to g² before averaging.</param>
/// <param name="Eps2">ε2, the floor of RMS(param) when <paramref name="ScaleParameter"/> is on.</param>
/// <param name="ScaleParameter">Multiply the rate by max(ε2, RMS(param)) (the paper's relative step size).</param>
/// <param name="RelativeStep">Replace the external rate by ρ_t = min(1e-2, 1/√t) (the paper's schedule).</param>
public sealed record AdafactorOptions(float Beta1 = 0f, float DecayRate = 0.8f, float ClipThreshold = 1f, float Eps1 = 1e-30f, float Eps2 = 1e-3f,
    bool ScaleParameter = false, bool RelativeStep = false)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public AdafactorOptions Validate()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentException($"adafactor beta1 must be in [0, 1), got {Beta1}");
        if (!(DecayRate > 0 && DecayRate <= 1)) throw new ArgumentException($"adafactor decay_rate must be in (0, 1], got {DecayRate}");
        if (!(ClipThreshold > 0)) throw new ArgumentException($"adafactor clip_threshold must be positive, got {ClipThreshold}");
        if (!(Eps1 > 0 && Eps1 < 1)) throw new ArgumentException($"adafactor eps1 must be in (0, 1), got {Eps1}");
        if (!(Eps2 > 0 && Eps2 < 1)) throw new ArgumentException($"adafactor eps2 must be in (0, 1), got {Eps2}");
        return this;
    }

    /// <summary>β2 of step <paramref name="step"/> (counting from 1): 1 − step^(−c), so 0 at the first step.</summary>
    public float Beta2At(int step) => (float)(1.0 - Math.Pow(step, -DecayRate));

    /// <summary>The rate of step <paramref name="step"/>: <paramref name="lr"/>, or min(1e-2, 1/√step) with <see cref="RelativeStep"/>.</summary>
    public float LrAt(float lr, int step) => RelativeStep ? (float)Math.Min(1e-2, 1.0 / Math.Sqrt(step)) : lr;
}
