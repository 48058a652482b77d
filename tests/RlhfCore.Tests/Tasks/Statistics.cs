namespace RlhfCore.Tests.Tasks;

/// <summary>Bounds for tests on random draws.</summary>
internal static class Statistics
{
    /// <summary>
    /// How far an empirical rate over <paramref name="n"/> Bernoulli(<paramref name="p"/>) draws may stray:
    /// 4.5 standard deviations (a false failure about once in 150,000 runs) plus one count for rounding.
    /// </summary>
    public static double BinomialBound(double p, int n) => 4.5 * Math.Sqrt(p * (1 - p) / n) + 1.0 / n;
}
