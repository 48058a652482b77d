namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 KL estimators written straight from their definitions (Schulman's note): with
/// p = e^logp, q = e^refLogp, r = q/p: k1 = −log r, k2 = ½(log r)², k3 = (r − 1) − log r; and the
/// Ziegler et al. adaptive controller update.
/// </summary>
public static class KlReference
{
    /// <summary>k1, k2 or k3 (1, 2, 3) for one token.</summary>
    public static double Estimate(int k, double logp, double refLogp)
    {
        double r = Math.Exp(refLogp) / Math.Exp(logp);
        return k switch
        {
            1 => -Math.Log(r),
            2 => 0.5 * Math.Log(r) * Math.Log(r),
            3 => (r - 1) - Math.Log(r),
            _ => throw new ArgumentOutOfRangeException(nameof(k)),
        };
    }

    /// <summary>β·(1 + clip(kl/target − 1, ±0.2)·n/horizon).</summary>
    public static double AdaptiveUpdate(double beta, double kl, double target, double horizon, int n)
    {
        double e = kl / target - 1;
        if (e > 0.2) e = 0.2;
        if (e < -0.2) e = -0.2;
        return beta * (1 + e * n / horizon);
    }
}
