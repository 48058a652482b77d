using RlhfCore.Feedback;
using RlhfCore.IO;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Reward;

/// <summary>A reward model's (or ensemble's) diagnostics on some comparisons.</summary>
/// <param name="Accuracy">Fraction of ordered pairs whose better member has the higher aggregate score.</param>
/// <param name="Ece">Expected calibration error of σ(r_a − r_b) against the judge's choices (both orientations of each pair).</param>
/// <param name="Bins">The reliability diagram's bins.</param>
/// <param name="Disagreement">Mean over sequences of the members' standard deviation (0 for one model).</param>
/// <param name="Pairs">Ordered pairs counted.</param>
public sealed record RewardDiagnosticsResult(double Accuracy, double Ece, IReadOnlyList<ReliabilityBin> Bins, double Disagreement, long Pairs)
{
    /// <summary>The numbers as metrics, each name prefixed by <paramref name="prefix"/>.</summary>
    public Dictionary<string, double> ToMetrics(string prefix) => new()
    {
        [prefix + "accuracy"] = Accuracy, [prefix + "ece"] = Ece, [prefix + "disagreement"] = Disagreement, [prefix + "pairs"] = Pairs,
    };
}

/// <summary>
/// Diagnoses a reward model on pairs or rankings (best first): accuracy of the aggregate score, calibration
/// of σ(r_better − r_worse) — each ordered pair counts once as (p, chosen) and once as (1 − p, not chosen),
/// so a model that always says 0.5 is perfectly calibrated and uninformative — and ensemble disagreement.
/// </summary>
public static class RewardDiagnostics
{
    /// <summary>The diagnostics of <paramref name="scorer"/> (combined by <paramref name="aggregation"/>) on <paramref name="examples"/>.</summary>
    public static RewardDiagnosticsResult Compute(EnsembleScorer scorer, RewardAggregation aggregation, IReadOnlyList<RewardExample> examples, int bins = 10)
    {
        var sequences = new List<int[]>();
        foreach (var ex in examples)
        {
            if (ex.Kind is not (FeedbackKind.Pairs or FeedbackKind.Rankings))
                throw new ArgumentException($"{ex.Source}: diagnostics compare completions; {ex.Kind} feedback has nothing to compare");
            sequences.AddRange(ex.Sequences);
        }
        if (sequences.Count == 0) throw new ArgumentException("no comparisons to diagnose", nameof(examples));
        var scores = scorer.Score(sequences);
        var agg = aggregation.Apply(scores);
        var predictions = new List<(double, bool)>();
        long pairs = 0, correct = 0;
        int offset = 0;
        foreach (var ex in examples)
        {
            for (int i = 0; i < ex.Sequences.Length; i++)
                for (int j = i + 1; j < ex.Sequences.Length; j++)
                {
                    double p = RewardLosses.Sigmoid(agg[offset + i] - agg[offset + j]);
                    predictions.Add((p, true));
                    predictions.Add((1 - p, false));
                    pairs++;
                    if (agg[offset + i] > agg[offset + j]) correct++;
                }
            offset += ex.Sequences.Length;
        }
        var (ece, table) = Calibration.Compute(predictions, bins);
        return new RewardDiagnosticsResult((double)correct / pairs, ece, table, scores.MeanDisagreement, pairs);
    }

    /// <summary>Writes the reliability diagram of <paramref name="result"/> to <paramref name="path"/>.</summary>
    public static void WriteReliabilitySvg(string path, string title, RewardDiagnosticsResult result) =>
        SvgChart.Write(path, title, "predicted P(chosen) = σ(r_a − r_b)", "observed frequency",
        [
            new ChartSeries("perfect calibration", [(0, 0), (1, 1)]),
            new ChartSeries($"bins (ECE {result.Ece:F3})", result.Bins.Where(b => b.Count > 0).Select(b => (b.MeanPredicted, b.Frequency)).ToList(), ChartStyle.Points),
        ]);
}
