using System.Globalization;

namespace RlhfCore.Rl;

/// <summary>
/// Watches an RL run for reward hacking (over-optimization of the proxy): the proxy reward keeps rising
/// while the gold reward falls or the reward-model ensemble disagrees more and more about the rollouts —
/// the signature Gao et al. (2022) and Coste et al. (2024) describe. Over the last <c>window</c> steps each
/// series' least-squares slope is tested against its standard error; a trend counts when its t statistic
/// passes the one-sided 1 % level of Student's t with window − 2 degrees of freedom, so two unrelated noisy
/// series raise a joint false alarm in about 1 of 5000 windows. A warning is raised when the proxy's trend
/// is up and gold's is down or disagreement's is up, then at most once per window while it persists.
/// </summary>
public sealed class HackingMonitor
{
    // One-sided 99 % quantiles of Student's t for 1…30 degrees of freedom; beyond, the normal's 2.326.
    private static readonly double[] T99 = [31.82, 6.965, 4.541, 3.747, 3.365, 3.143, 2.998, 2.896, 2.821, 2.764, 2.718, 2.681, 2.650, 2.624, 2.602,
        2.583, 2.567, 2.552, 2.539, 2.528, 2.518, 2.508, 2.500, 2.492, 2.485, 2.479, 2.473, 2.467, 2.462, 2.457];
    private readonly double _critical;
    private readonly int _window;
    private readonly List<double> _proxy = [], _gold = [], _disagreement = [];
    private int? _lastWarning;

    /// <summary>A monitor over windows of <paramref name="window"/> ≥ 3 steps.</summary>
    public HackingMonitor(int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 3);
        _window = window;
        _critical = window - 2 <= T99.Length ? T99[window - 3] : 2.326;
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
        if (_proxy.Count < _window || step - _lastWarning < _window) return null; // null - … is null: no warning yet
        var (proxySlope, proxyT) = Trend(_proxy);
        if (!(proxyT > _critical)) return null;
        var (goldSlope, goldT) = Trend(_gold);
        var (disSlope, disT) = Trend(_disagreement);
        var reasons = new List<string>();
        if (goldT < -_critical) reasons.Add(Fmt($"gold fell ({goldSlope:+0.0000;-0.0000}/step)"));
        if (disT > _critical) reasons.Add(Fmt($"ensemble disagreement rose ({disSlope:+0.0000;-0.0000}/step)"));
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
