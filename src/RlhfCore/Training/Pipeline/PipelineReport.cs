using RlhfCore.IO;
using RlhfCore.Training.Overopt;

namespace RlhfCore.Training.Pipeline;

/// <summary>One evaluation of a policy: round 0 is the SFT policy, round r ≥ 1 the policy after round r.</summary>
/// <param name="Round">0 for SFT.</param>
/// <param name="GoldGreedy">Mean gold reward of greedy completions on the fixed evaluation prompts.</param>
/// <param name="GoldSampled">Mean gold reward of completions sampled at temperature 1.</param>
/// <param name="RewardModelScore">Mean reward-model score of those samples (the round's reward model; NaN for SFT).</param>
/// <param name="RewardModelAccuracy">The round's reward model's accuracy on held-out feedback (NaN for SFT).</param>
/// <param name="Kl">KL to the SFT reference at the end of the round's policy optimization (NaN where not measured).</param>
/// <param name="Pairs">Feedback records (pairs, or rankings) collected so far.</param>
/// <param name="ShiftAccuracy">The reward model's accuracy on fresh pairs from the round's post-RL policy (NaN where not measured).</param>
/// <param name="RewardModelEce">Expected calibration error of the reward model on held-out feedback.</param>
/// <param name="Disagreement">Mean standard deviation of the ensemble members' held-out scores (0 for one model).</param>
/// <param name="SampledKl">KL to the SFT policy per sequence on completions the round's policy samples for 200 evaluation prompts, the same
/// measure for every method (NaN for SFT).</param>
public sealed record RoundSummary(int Round, double GoldGreedy, double GoldSampled, double RewardModelScore, double RewardModelAccuracy, double Kl, int Pairs,
    double ShiftAccuracy = double.NaN, double RewardModelEce = double.NaN, double Disagreement = double.NaN, double SampledKl = double.NaN);

/// <summary>One policy-optimization step: the over-optimization curve's raw data.</summary>
/// <param name="Round">Round.</param>
/// <param name="Step">Step within the round.</param>
/// <param name="Kl">objective/kl of the step's rollouts (per sequence, against the SFT reference).</param>
/// <param name="RewardModelScore">Mean reward-model score of the rollouts (the aggregate, for an ensemble).</param>
/// <param name="GoldScore">Mean gold reward of the same rollouts.</param>
/// <param name="Disagreement">Mean standard deviation of the ensemble members' scores of the rollouts (NaN for one model).</param>
public sealed record CurvePoint(int Round, int Step, double Kl, double RewardModelScore, double GoldScore, double Disagreement = double.NaN);

/// <summary>Writes the pipeline's report: rounds.csv, curve.csv and the SVG charts.</summary>
public static class PipelineReport
{
    /// <summary>Writes every report file into <paramref name="outDir"/> (each atomically).</summary>
    public static void Write(string outDir, IReadOnlyList<RoundSummary> rounds, IReadOnlyList<CurvePoint> curve)
    {
        AtomicFile.Write(Path.Combine(outDir, "rounds.csv"), s => WriteText(s,
            "round,gold_greedy,gold_sampled,reward_model_score,reward_model_accuracy,kl,pairs,reward_model_shift_accuracy,reward_model_ece,reward_model_disagreement,sampled_kl\n"
            + string.Concat(rounds.Select(r => $"{r.Round},{F(r.GoldGreedy)},{F(r.GoldSampled)},{F(r.RewardModelScore)},{F(r.RewardModelAccuracy)},{F(r.Kl)},{r.Pairs},"
                + $"{F(r.ShiftAccuracy)},{F(r.RewardModelEce)},{F(r.Disagreement)},{F(r.SampledKl)}\n"))));
        AtomicFile.Write(Path.Combine(outDir, "curve.csv"), s => WriteText(s,
            "round,step,kl,reward_model_score,gold_score,disagreement\n"
            + string.Concat(curve.Select(c => $"{c.Round},{c.Step},{F(c.Kl)},{F(c.RewardModelScore)},{F(c.GoldScore)},{F(c.Disagreement)}\n"))));
        if (curve.Count > 0) WriteOveroptimization(Path.Combine(outDir, "overoptimization.svg"), curve);
        var gold = new ChartPanel("gold reward (task units)",
        [
            new ChartSeries("gold (greedy)", rounds.Select(r => ((double)r.Round, r.GoldGreedy)).ToList()),
            new ChartSeries("gold (sampled)", rounds.Select(r => ((double)r.Round, r.GoldSampled)).ToList()),
        ]);
        var accuracy = new ChartPanel("reward-model accuracy (fraction)",
        [
            new ChartSeries("RM held-out accuracy", rounds.Where(r => !double.IsNaN(r.RewardModelAccuracy)).Select(r => ((double)r.Round, r.RewardModelAccuracy)).ToList(), Color: 2),
            new ChartSeries("RM accuracy on post-RL samples", rounds.Where(r => !double.IsNaN(r.ShiftAccuracy)).Select(r => ((double)r.Round, r.ShiftAccuracy)).ToList(), Color: 3),
        ]);
        SvgChart.WritePanels(Path.Combine(outDir, "rounds.svg"), "Per round: gold reward of the policy, and its reward model's accuracy",
            "round (0 = SFT)", [gold, accuracy], integerX: true);
    }

    /// <summary>
    /// Gold and reward-model score against d = √KL to the SFT policy, each in its own panel (different units),
    /// every rollout step a dot coloured by round, with the Gao RL form d(α − β·log d) + R₀ fitted by least
    /// squares: over all rounds for gold (one truth), per round for the reward model (each round has its own).
    /// </summary>
    public static void WriteOveroptimization(string path, IReadOnlyList<CurvePoint> curve)
    {
        var byRound = curve.GroupBy(c => c.Round).OrderBy(g => g.Key).ToList();
        List<(double, double)> Points(IEnumerable<CurvePoint> ps, Func<CurvePoint, double> y) => ps.Select(c => (Math.Sqrt(Math.Max(0, c.Kl)), y(c))).ToList();
        List<(double, double)>? Fitted(List<(double D, double R)> points)
        {
            if (points.Count(p => p.D > 0 && double.IsFinite(p.R)) < 4) return null;
            try
            {
                var fit = GaoFit.Fit(GaoForm.Rl, points, intercept: true);
                double lo = points.Min(p => p.D), hi = points.Max(p => p.D);
                return Enumerable.Range(0, 61).Select(i => lo + (hi - lo) * i / 60).Select(d => (d, fit.At(d))).ToList();
            }
            catch (ArgumentException) { return null; } // degenerate (every step at one KL): no curve, the dots still show
        }
        var goldSeries = byRound.Select(g => new ChartSeries($"round {g.Key} steps", Points(g, c => c.GoldScore), ChartStyle.Points, g.Key - 1)).ToList();
        if (Fitted(Points(curve, c => c.GoldScore)) is { } goldFit) goldSeries.Add(new ChartSeries("fit d(α − β log d) + R₀", goldFit, ChartStyle.Line, 7));
        var proxySeries = new List<ChartSeries>();
        foreach (var g in byRound)
        {
            proxySeries.Add(new ChartSeries($"round {g.Key} steps", Points(g, c => c.RewardModelScore), ChartStyle.Points, g.Key - 1));
            if (Fitted(Points(g, c => c.RewardModelScore)) is { } fit) proxySeries.Add(new ChartSeries($"round {g.Key} fit", fit, ChartStyle.Line, g.Key - 1));
        }
        SvgChart.WritePanels(path, "Over-optimization: gold and reward-model reward of RL rollouts against KL to SFT", "d = √KL to the SFT policy (√nats per sequence)",
        [
            new ChartPanel("gold reward (task units)", goldSeries),
            new ChartPanel("reward-model score (its own units)", proxySeries),
        ]);
    }

    private static void WriteText(Stream s, string text) => s.Write(System.Text.Encoding.UTF8.GetBytes(text));

    private static string F(double x) => double.IsNaN(x) ? "" : x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
