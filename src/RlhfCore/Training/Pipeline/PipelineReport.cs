namespace RlhfCore.Training.Pipeline;

/// <summary>One evaluation of a policy: round 0 is the SFT policy, round r ≥ 1 the policy after round r.</summary>
/// <param name="Round">0 for SFT.</param>
/// <param name="GoldGreedy">Mean gold reward of greedy completions on the fixed evaluation prompts.</param>
/// <param name="GoldSampled">Mean gold reward of completions sampled at temperature 1.</param>
/// <param name="RewardModelScore">Mean reward-model score of those samples (the round's reward model; NaN for SFT).</param>
/// <param name="RewardModelAccuracy">The round's reward model's accuracy on held-out pairs (NaN for SFT).</param>
/// <param name="Kl">KL to the SFT reference at the end of the round's policy optimization (NaN where not measured).</param>
/// <param name="Pairs">Preference pairs collected so far.</param>
public sealed record RoundSummary(int Round, double GoldGreedy, double GoldSampled, double RewardModelScore, double RewardModelAccuracy, double Kl, int Pairs);

/// <summary>One policy-optimization step: the over-optimization curve's raw data.</summary>
/// <param name="Round">Round.</param>
/// <param name="Step">Step within the round.</param>
/// <param name="Kl">objective/kl of the step's rollouts (per sequence, against the SFT reference).</param>
/// <param name="RewardModelScore">Mean reward-model score of the rollouts.</param>
/// <param name="GoldScore">Mean gold reward of the same rollouts.</param>
public sealed record CurvePoint(int Round, int Step, double Kl, double RewardModelScore, double GoldScore);

/// <summary>Writes the pipeline's report: rounds.csv, curve.csv and the SVG charts.</summary>
public static class PipelineReport
{
    /// <summary>Writes every report file into <paramref name="outDir"/> (each atomically).</summary>
    public static void Write(string outDir, IReadOnlyList<RoundSummary> rounds, IReadOnlyList<CurvePoint> curve)
    {
        IO.AtomicFile.Write(Path.Combine(outDir, "rounds.csv"), s => WriteText(s,
            "round,gold_greedy,gold_sampled,reward_model_score,reward_model_accuracy,kl,pairs\n"
            + string.Concat(rounds.Select(r => $"{r.Round},{F(r.GoldGreedy)},{F(r.GoldSampled)},{F(r.RewardModelScore)},{F(r.RewardModelAccuracy)},{F(r.Kl)},{r.Pairs}\n"))));
        IO.AtomicFile.Write(Path.Combine(outDir, "curve.csv"), s => WriteText(s,
            "round,step,kl,reward_model_score,gold_score\n"
            + string.Concat(curve.Select(c => $"{c.Round},{c.Step},{F(c.Kl)},{F(c.RewardModelScore)},{F(c.GoldScore)}\n"))));
        if (curve.Count > 0)
        {
            // Over-optimization: both rewards against the KL spent to reach them, each in its own units.
            var byKl = curve.OrderBy(c => c.Kl).ToList();
            IO.SvgChart.Write(Path.Combine(outDir, "overoptimization.svg"), "Gold vs reward-model reward against KL to the SFT policy",
                "KL to reference (nats per sequence)", "mean reward of rollouts",
                [new IO.ChartSeries("reward model", byKl.Select(c => (c.Kl, c.RewardModelScore)).ToList()),
                 new IO.ChartSeries("gold", byKl.Select(c => (c.Kl, c.GoldScore)).ToList())]);
        }
        IO.SvgChart.Write(Path.Combine(outDir, "rounds.svg"), "Per round: gold reward and reward-model held-out accuracy", "round", "value",
            [new IO.ChartSeries("gold (greedy)", rounds.Select(r => ((double)r.Round, r.GoldGreedy)).ToList()),
             new IO.ChartSeries("gold (sampled)", rounds.Select(r => ((double)r.Round, r.GoldSampled)).ToList()),
             new IO.ChartSeries("RM held-out accuracy", rounds.Where(r => !double.IsNaN(r.RewardModelAccuracy)).Select(r => ((double)r.Round, r.RewardModelAccuracy)).ToList())]);
    }

    private static void WriteText(Stream s, string text) => s.Write(System.Text.Encoding.UTF8.GetBytes(text));

    private static string F(double x) => double.IsNaN(x) ? "" : x.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
