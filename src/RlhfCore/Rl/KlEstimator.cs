namespace RlhfCore.Rl;

/// <summary>
/// Per-token estimators of KL(π ‖ π_ref) from the log-probabilities of a token sampled from π
/// (Schulman, "Approximating KL divergence"). With d = logp − refLogp and r = π_ref/π = e^(−d):
/// k1 = d (unbiased, high variance, can be negative); k2 = ½d² (biased, low variance);
/// k3 = (r − 1) − log r (unbiased, always ≥ 0; GRPO's choice).
/// </summary>
public enum KlEstimator
{
    /// <summary>logp − refLogp.</summary>
    K1,
    /// <summary>½ (logp − refLogp)².</summary>
    K2,
    /// <summary>(r − 1) − log r with r = e^(refLogp − logp).</summary>
    K3,
}

/// <summary>The estimators' values and their derivatives with respect to the policy's log-probability.</summary>
public static class Kl
{
    /// <summary>The estimate for one token.</summary>
    public static double Estimate(KlEstimator kind, double logp, double refLogp)
    {
        double d = logp - refLogp;
        return kind switch
        {
            KlEstimator.K1 => d,
            KlEstimator.K2 => 0.5 * d * d,
            // expm1(−d) + d keeps precision when the two policies are close (d ≈ 0), where (r − 1) − log r cancels.
            KlEstimator.K3 => ExpM1(-d) + d,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown KL estimator"),
        };
    }

    /// <summary>∂Estimate/∂logp, for the KL-as-loss term (the reference is a constant).</summary>
    public static double Derivative(KlEstimator kind, double logp, double refLogp)
    {
        double d = logp - refLogp;
        return kind switch
        {
            KlEstimator.K1 => 1,
            KlEstimator.K2 => d,
            KlEstimator.K3 => -ExpM1(-d),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown KL estimator"),
        };
    }

    /// <summary>e^x − 1 without cancellation for small x (.NET has no Math.ExpM1).</summary>
    private static double ExpM1(double x) =>
        Math.Abs(x) < 1e-5 ? x + 0.5 * x * x + x * x * x / 6 : Math.Exp(x) - 1;
}
