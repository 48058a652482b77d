using System.Globalization;

namespace RlhfCore.Rl;

/// <summary>
/// Watches an RL run for reward hacking (over-optimization of the proxy): the proxy reward keeps rising
/// while the gold reward falls or the reward-model ensemble disagrees more and more about the rollouts —
/// the signature Gao et al. (2022) and Coste et al. (2024) describe. Over the last <c>window</c> steps each
/// series' least-squares slope is tested against its standard error; a trend counts when |t| &gt; 2 (about
/// the 5 % level for a straight line through noisy points). A warning is raised when the proxy's trend is
/// up and gold's is down or disagreement's is up, then at most once per window while it persists.
/// </summary>
public sealed class HackingMonitor
{
    private const double TrendT = 2.0;
    private readonly int _window;
    private readonly List<double> _proxy = [], _gold = [], _disagreement = [];
    private int _lastWarning = int.MinValue;

    /// <summary>A monitor over windows of <paramref name="window"/> ≥ 3 steps.</summary>
    public HackingMonitor(int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 3);
        _window = window;
    }

    /// <summary>
    /// Adds one step's means (NaN for what the run does not have: gold without a gold task, disagreement
    /// without an ensemble) and returns a warning, or null.
    /// </summary>
    public string? Observe(int step, double proxy, double gold, double disagreement)
    {
        _proxy.Add(proxy);
        _gold.Add(gold);
        _disagreement.Add(disagreement);
        if (_proxy.Count < _window || step - _lastWarning < _window) return null;
        var (proxySlope, proxyT) = Trend(_proxy);
        if (!(proxyT > TrendT)) return null;
        var (goldSlope, goldT) = Trend(_gold);
        var (disSlope, disT) = Trend(_disagreement);
        var reasons = new List<string>();
        if (goldT < -TrendT) reasons.Add(Fmt($"gold fell ({goldSlope:+0.0000;-0.0000}/step)"));
        if (disT > TrendT) reasons.Add(Fmt($"ensemble disagreement rose ({disSlope:+0.0000;-0.0000}/step)"));
        if (reasons.Count == 0) return null;
        _lastWarning = step;
        return Fmt($"possible reward hacking at step {step + 1}: over the last {_window} steps the proxy reward rose ({proxySlope:+0.0000;-0.0000}/step) while {string.Join(" and ", reasons)}");
    }

    /// <summary>Slope and its t statistic over the last window (NaN when the window holds a non-finite value).</summary>
    private (double Slope, double T) Trend(List<double> series)
    {
        var y = series.GetRange(series.Count - _window, _window);
        if (y.Any(v => !double.IsFinite(v))) return (double.NaN, double.NaN);
        int n = y.Count;
        double mx = (n - 1) / 2.0, my = y.Average(), sxx = 0, sxy = 0;
        for (int i = 0; i < n; i++) { sxx += (i - mx) * (i - mx); sxy += (i - mx) * (y[i] - my); }
        double b = sxy / sxx, sse = 0;
        for (int i = 0; i < n; i++) { double e = y[i] - my - b * (i - mx); sse += e * e; }
        double se = Math.Sqrt(sse / (n - 2) / sxx);
        return (b, se > 0 ? b / se : b == 0 ? 0 : Math.Sign(b) * double.PositiveInfinity);
    }

    private static string Fmt(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
