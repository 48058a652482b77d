namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 versions of the trainer's reward → advantage path, from the formulas of InstructGPT /
/// TRL: per sequence (prompt length P, response length R, per-response-token logp and refLogp), the
/// reward of response token j is −β·KL_j plus the score at j = R − 1; GAE over the response tokens
/// (values as given, 0 after the last); whitening over every response token of the batch with the
/// unbiased variance. RLOO and GRPO group baselines over per-sequence returns.
/// </summary>
public static class PpoTrainerReference
{
    /// <summary>One sequence's response-token inputs.</summary>
    public sealed record Sequence(double[] Logp, double[] RefLogp, double[] Values, double Score);

    /// <summary>Per-response-token rewards of one sequence.</summary>
    public static double[] Rewards(Sequence s, double beta, int estimator)
    {
        int R = s.Logp.Length;
        var r = new double[R];
        for (int j = 0; j < R; j++) r[j] = -beta * KlReference.Estimate(estimator, s.Logp[j], s.RefLogp[j]);
        r[R - 1] += s.Score;
        return r;
    }

    /// <summary>GAE by the textbook double sum A_j = Σ_l (γλ)^l δ_{j+l} (not a reverse scan), and returns A + V.</summary>
    public static (double[] Advantages, double[] Returns) Gae(double[] rewards, double[] values, double gamma, double lambda)
    {
        int R = rewards.Length;
        var delta = new double[R];
        for (int j = 0; j < R; j++) delta[j] = rewards[j] + gamma * (j + 1 < R ? values[j + 1] : 0) - values[j];
        var adv = new double[R];
        var ret = new double[R];
        for (int j = 0; j < R; j++)
        {
            double sum = 0, factor = 1;
            for (int l = j; l < R; l++) { sum += factor * delta[l]; factor *= gamma * lambda; }
            adv[j] = sum;
            ret[j] = sum + values[j];
        }
        return (adv, ret);
    }

    /// <summary>(x − mean)/√(unbiased var + 1e-8) over all elements of all arrays.</summary>
    public static double[][] Whiten(double[][] xs)
    {
        var all = xs.SelectMany(x => x).ToArray();
        double mean = all.Average();
        double variance = all.Sum(v => (v - mean) * (v - mean)) / (all.Length - 1);
        return xs.Select(x => x.Select(v => (v - mean) / Math.Sqrt(variance + 1e-8)).ToArray()).ToArray();
    }

    /// <summary>RLOO: R_i minus the mean of the other returns of its group.</summary>
    public static double[] Rloo(double[] returns, int k) =>
        returns.Select((R, i) =>
        {
            int g = i / k * k;
            double others = 0;
            for (int j = g; j < g + k; j++) if (j != i) others += returns[j];
            return R - others / (k - 1);
        }).ToArray();

    /// <summary>GRPO: (R_i − group mean)/(group sample std + 1e-4).</summary>
    public static double[] Grpo(double[] returns, int k) =>
        returns.Select((R, i) =>
        {
            var group = returns.Skip(i / k * k).Take(k).ToArray();
            double mean = group.Average();
            double std = Math.Sqrt(group.Sum(v => (v - mean) * (v - mean)) / (k - 1));
            return (R - mean) / (std + 1e-4);
        }).ToArray();
}
