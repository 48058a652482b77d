using System.Globalization;
using System.Text.Json;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Training.BestOfN;

namespace RlhfCore.Training.Overopt;

/// <summary>One measured point of the study.</summary>
/// <param name="Source">"bon" for best-of-n, or "rl:FILE" for a logged RL step.</param>
/// <param name="N">n of best-of-n (0 for RL).</param>
/// <param name="Round">Pipeline round of an RL point (0 for best-of-n).</param>
/// <param name="KlAnalytic">log n − (n − 1)/n (NaN for RL).</param>
/// <param name="Kl">The KL the fit uses: estimated from the samples for best-of-n, logged for RL.</param>
/// <param name="Proxy">Mean proxy (reward-model aggregate) score of the chosen samples.</param>
/// <param name="Gold">Mean gold reward of the chosen samples.</param>
public sealed record OveroptPoint(string Source, int N, int Round, double KlAnalytic, double Kl, double Proxy, double Gold);

/// <summary>The fits of one study.</summary>
/// <param name="BonGold">Best-of-n, gold reward relative to n = 1.</param>
/// <param name="BonProxy">Best-of-n, proxy relative to n = 1.</param>
/// <param name="RlGold">RL, gold relative to best-of-1 (null without RL points).</param>
/// <param name="RlProxy">RL, proxy relative to best-of-1 (null without RL points).</param>
public sealed record OveroptFits(GaoCurve BonGold, GaoCurve BonProxy, GaoCurve? RlGold, GaoCurve? RlProxy);

/// <summary>
/// The over-optimization study of Gao et al. (2022): best-of-n for n = 1, 2, 4, …, N from one set of N
/// samples per prompt (best of the first n, chosen by the proxy), and RL runs' logged (KL, proxy, gold)
/// points; each fitted with its form in d = √KL, rewards taken relative to best-of-1 (the policy itself).
/// </summary>
public static class OveroptStudy
{
    /// <summary>Best-of-n points from <paramref name="result"/> (N samples per prompt), proxy scores from the result and gold from <paramref name="task"/>.</summary>
    public static List<OveroptPoint> BestOfNPoints(BestOfNResult result, IGoldTask task, IReadOnlyList<int> ns)
    {
        var gold = result.Prompts.Select(p => p.Samples.Select(c => task.GoldReward(p.Prompt, c.Text)).ToArray()).ToArray();
        var points = new List<OveroptPoint>();
        foreach (int n in ns)
        {
            double proxy = 0, g = 0;
            for (int i = 0; i < result.Prompts.Count; i++)
            {
                int best = result.Prompts[i].BestOfFirst(n);
                proxy += result.Prompts[i].Scores[best];
                g += gold[i][best];
            }
            double kl = BestOfNKl.Estimate(result.Prompts.Select(p => (IReadOnlyList<double>)p.Scores).ToList(), n);
            points.Add(new OveroptPoint("bon", n, 0, BestOfNKl.Analytic(n), kl, proxy / result.Prompts.Count, g / result.Prompts.Count));
        }
        return points;
    }

    /// <summary>The RL points of a pipeline's curve.csv (header round,step,kl,reward_model_score,gold_score[,…]).</summary>
    /// <exception cref="Data.DataFormatException">The header or a line is not that layout; the message names the file and line.</exception>
    public static List<OveroptPoint> ReadCurve(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"RL curve not found: {path}", path);
        var lines = File.ReadAllLines(path);
        const string header = "round,step,kl,reward_model_score,gold_score";
        if (lines.Length == 0 || !lines[0].Trim().StartsWith(header, StringComparison.Ordinal))
            throw new Data.DataFormatException(path, 1, null, $"is not a pipeline curve (expected a header starting \"{header}\")");
        int columns = lines[0].Split(',').Length;
        var points = new List<OveroptPoint>();
        for (int i = 1; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0) continue;
            var f = lines[i].Split(',');
            if (f.Length != columns) throw new Data.DataFormatException(path, i + 1, null, $"has {f.Length} fields; the header has {columns}");
            double Num(int k, string name) => f[k].Length == 0 ? double.NaN
                : double.TryParse(f[k], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
                : throw new Data.DataFormatException(path, i + 1, name, $"is not a number ('{f[k]}')");
            points.Add(new OveroptPoint("rl:" + path, 0, (int)Num(0, "round"), double.NaN, Num(2, "kl"), Num(3, "reward_model_score"), Num(4, "gold_score")));
        }
        return points;
    }

    /// <summary>Fits every form the points allow; rewards relative to best-of-1's.</summary>
    public static OveroptFits Fit(IReadOnlyList<OveroptPoint> points)
    {
        var bon = points.Where(p => p.Source == "bon").ToList();
        var base1 = bon.Single(p => p.N == 1);
        List<(double, double)> Rel(IEnumerable<OveroptPoint> ps, Func<OveroptPoint, double> value, double baseline) =>
            ps.Select(p => (Math.Sqrt(Math.Max(0, p.Kl)), value(p) - baseline)).ToList();
        var rl = points.Where(p => p.Source != "bon" && double.IsFinite(p.Kl) && p.Kl > 0).ToList();
        GaoCurve? TryRl(Func<OveroptPoint, double> value, double baseline) =>
            rl.Count >= 2 ? GaoFit.Fit(GaoForm.Rl, Rel(rl, value, baseline)) : null;
        return new OveroptFits(
            GaoFit.Fit(GaoForm.BestOfN, Rel(bon, p => p.Gold, base1.Gold)),
            GaoFit.Fit(GaoForm.BestOfN, Rel(bon, p => p.Proxy, base1.Proxy)),
            TryRl(p => p.Gold, base1.Gold), TryRl(p => p.Proxy, base1.Proxy));
    }

    /// <summary>Writes overopt.json (fits and peaks), overopt.csv (points) and overopt.svg into <paramref name="outDir"/>.</summary>
    public static void Write(string outDir, IReadOnlyList<OveroptPoint> points, OveroptFits fits, string proxyName)
    {
        Directory.CreateDirectory(outDir);
        var inv = CultureInfo.InvariantCulture;
        string F(double x) => double.IsNaN(x) ? "" : x.ToString("R", inv);
        AtomicFile.Write(Path.Combine(outDir, "overopt.csv"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(
            "source,n,round,kl_analytic,kl,proxy,gold\n" + string.Concat(points.Select(p => $"{p.Source},{p.N},{p.Round},{F(p.KlAnalytic)},{F(p.Kl)},{F(p.Proxy)},{F(p.Gold)}\n")))));
        object Describe(GaoCurve? c) => c is null ? "not fitted (fewer than 2 RL points)" : new
        {
            form = c.Form == GaoForm.BestOfN ? "R(d) = d(alpha - beta d)" : "R(d) = d(alpha - beta log d)",
            alpha = c.Alpha, beta = c.Beta, points = c.Points, rmse = c.Rmse,
            peak = double.IsNaN(c.PeakD) ? null : new { d = c.PeakD, kl = c.PeakKl, reward = c.PeakReward },
        };
        var base1 = points.Single(p => p.Source == "bon" && p.N == 1);
        AtomicFile.Write(Path.Combine(outDir, "overopt.json"), s => JsonSerializer.Serialize(s, new
        {
            proxy = proxyName,
            relativeTo = new { gold = base1.Gold, proxy = base1.Proxy, note = "rewards are fitted relative to best-of-1 (the policy's own samples)" },
            bestOfN = new { gold = Describe(fits.BonGold), proxy = Describe(fits.BonProxy) },
            rl = new { gold = Describe(fits.RlGold), proxy = Describe(fits.RlProxy) },
        }, new JsonSerializerOptions { WriteIndented = true }));

        double maxD = points.Where(p => double.IsFinite(p.Kl)).Select(p => Math.Sqrt(Math.Max(0, p.Kl))).DefaultIfEmpty(1).Max();
        List<(double, double)> Curve(GaoCurve c, double baseline) =>
            Enumerable.Range(0, 101).Select(i => maxD * i / 100).Select(d => (d, baseline + c.At(d))).ToList();
        ChartPanel Panel(string label, Func<OveroptPoint, double> value, GaoCurve bonFit, GaoCurve? rlFit, double baseline)
        {
            var series = new List<IO.ChartSeries>
            {
                new("best-of-n (measured)", points.Where(p => p.Source == "bon").Select(p => (Math.Sqrt(Math.Max(0, p.Kl)), value(p))).ToList(), ChartStyle.Points, 0),
                new("best-of-n fit d(α − βd)", Curve(bonFit, baseline), ChartStyle.Line, 0),
            };
            if (points.Any(p => p.Source != "bon"))
                series.Add(new("RL steps (logged)", points.Where(p => p.Source != "bon").Select(p => (Math.Sqrt(Math.Max(0, p.Kl)), value(p))).ToList(), ChartStyle.Points, 1));
            if (rlFit != null) series.Add(new("RL fit d(α − β log d)", Curve(rlFit, baseline), ChartStyle.Line, 1));
            return new ChartPanel(label, series);
        }
        SvgChart.WritePanels(Path.Combine(outDir, "overopt.svg"), $"Over-optimization: gold and proxy ({proxyName}) against d = √KL",
            "d = √KL to the sampling policy (√nats)",
            [Panel("gold reward (task units)", p => p.Gold, fits.BonGold, fits.RlGold, base1.Gold),
             Panel("proxy score (reward-model units)", p => p.Proxy, fits.BonProxy, fits.RlProxy, base1.Proxy)]);
    }
}
