namespace RlhfCore.Training.Reward;

/// <summary>One bin of a reliability diagram.</summary>
/// <param name="Lo">Lower edge of the bin (inclusive).</param>
/// <param name="Hi">Upper edge (exclusive; the last bin includes 1).</param>
/// <param name="Count">Predictions in the bin.</param>
/// <param name="MeanPredicted">Mean predicted probability in the bin (NaN when empty).</param>
/// <param name="Frequency">Fraction of the bin's predictions whose event happened (NaN when empty).</param>
public sealed record ReliabilityBin(double Lo, double Hi, int Count, double MeanPredicted, double Frequency);

/// <summary>
/// Calibration of probabilistic predictions: expected calibration error over equal-width bins,
/// ECE = Σ_b (n_b / N)·|mean predicted_b − observed frequency_b| (Guo et al., 2017), and the bins
/// themselves for a reliability diagram.
/// </summary>
public static class Calibration
{
    /// <summary>The ECE of <paramref name="predictions"/> (probability, whether the event happened) over <paramref name="bins"/> equal-width bins, and the bins.</summary>
    public static (double Ece, IReadOnlyList<ReliabilityBin> Bins) Compute(IReadOnlyList<(double P, bool Happened)> predictions, int bins = 10)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bins, 1);
        var count = new int[bins];
        var sumP = new double[bins];
        var hits = new int[bins];
        foreach (var (p, happened) in predictions)
        {
            if (!(p is >= 0 and <= 1)) throw new ArgumentException($"a probability must be in [0, 1], got {p}", nameof(predictions));
            int b = Math.Min(bins - 1, (int)(p * bins));
            count[b]++;
            sumP[b] += p;
            if (happened) hits[b]++;
        }
        int n = predictions.Count;
        double ece = 0;
        var result = new ReliabilityBin[bins];
        for (int b = 0; b < bins; b++)
        {
            double mean = count[b] > 0 ? sumP[b] / count[b] : double.NaN, freq = count[b] > 0 ? (double)hits[b] / count[b] : double.NaN;
            if (count[b] > 0) ece += (double)count[b] / n * Math.Abs(mean - freq);
            result[b] = new ReliabilityBin((double)b / bins, (double)(b + 1) / bins, count[b], mean, freq);
        }
        return (n > 0 ? ece : double.NaN, result);
    }
}
