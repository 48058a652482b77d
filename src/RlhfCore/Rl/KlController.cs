namespace RlhfCore.Rl;

/// <summary>
/// The KL coefficient β. Fixed, or adaptive as in Ziegler et al. (2019): after each batch,
/// e = clip(KL/target − 1, −0.2, 0.2) and β ← β·(1 + e·n/horizon), where KL is the batch's mean
/// per-sequence KL and n the number of sequences in it. Its only state is <see cref="Value"/>.
/// </summary>
public sealed class KlController
{
    /// <summary>The current coefficient (part of a checkpoint).</summary>
    public double Value { get; set; }
    /// <summary>Target KL per sequence, in nats; null keeps β fixed.</summary>
    public double? Target { get; }
    /// <summary>Horizon in sequences: how slowly β follows the error.</summary>
    public double Horizon { get; }

    /// <summary>A controller starting at <paramref name="initial"/>; adaptive when <paramref name="target"/> is set.</summary>
    public KlController(double initial, double? target = null, double horizon = 10000)
    {
        if (!(initial >= 0) || double.IsInfinity(initial)) throw new ArgumentException($"the initial KL coefficient must be finite and ≥ 0, got {initial}");
        if (target is double t && !(t > 0)) throw new ArgumentException($"the KL target must be positive, got {t}");
        if (!(horizon > 0)) throw new ArgumentException($"the KL horizon must be positive, got {horizon}");
        Value = initial;
        Target = target;
        Horizon = horizon;
    }

    /// <summary>Updates β from a batch of <paramref name="sequences"/> sequences whose mean KL was <paramref name="meanKl"/>.</summary>
    public void Update(double meanKl, int sequences)
    {
        if (Target is not double target || !double.IsFinite(meanKl)) return;
        double error = Math.Clamp(meanKl / target - 1, -0.2, 0.2);
        Value *= 1 + error * sequences / Horizon;
    }
}
