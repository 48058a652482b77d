namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// What an ensemble of K reward models says about N samples: each member's score and, per sample, the
/// mean, the population standard deviation over members (√(Σₖ(sₖ − mean)²/K), 0 for one member) and the
/// minimum. Statistics are accumulated in float64 from the members' float32 scores.
/// </summary>
public sealed class EnsembleScores
{
    /// <summary>[K][N] each member's scores.</summary>
    public IReadOnlyList<double[]> Members { get; }
    /// <summary>[N] mean over members.</summary>
    public double[] Mean { get; }
    /// <summary>[N] standard deviation over members (population form; 0 when K = 1).</summary>
    public double[] Std { get; }
    /// <summary>[N] minimum over members.</summary>
    public double[] Min { get; }

    /// <summary>Samples scored.</summary>
    public int Count => Mean.Length;

    /// <summary>The statistics of <paramref name="members"/> (K ≥ 1 arrays of equal length N).</summary>
    public EnsembleScores(IReadOnlyList<double[]> members)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member's scores", nameof(members));
        int n = members[0].Length;
        foreach (var m in members)
            if (m.Length != n) throw new ArgumentException($"members scored different numbers of samples ({m.Length} vs {n})", nameof(members));
        Members = members;
        Mean = new double[n];
        Std = new double[n];
        Min = new double[n];
        int k = members.Count;
        for (int i = 0; i < n; i++)
        {
            double sum = 0, min = double.PositiveInfinity;
            foreach (var m in members) { sum += m[i]; min = Math.Min(min, m[i]); }
            double mean = sum / k, sq = 0;
            // Two passes: Σ(s − mean)² keeps its precision where Σs² − k·mean² would cancel.
            foreach (var m in members) sq += (m[i] - mean) * (m[i] - mean);
            Mean[i] = mean;
            Std[i] = Math.Sqrt(sq / k);
            Min[i] = min;
        }
    }

    /// <summary>Mean over samples of the members' standard deviation: the ensemble's disagreement.</summary>
    public double MeanDisagreement => Std.Length == 0 ? double.NaN : Std.Average();
}
