namespace RlhfCore.Training.Overopt;

/// <summary>The KL between the best-of-n policy and the policy it samples from.</summary>
public static class BestOfNKl
{
    /// <summary>The analytic value for continuous, untied scores: log n − (n − 1)/n (Stiennon et al., 2020). An upper bound when scores tie.</summary>
    public static double Analytic(int n) => n >= 1 ? Math.Log(n) - (n - 1.0) / n : throw new ArgumentOutOfRangeException(nameof(n), n, "n must be positive");

    /// <summary>
    /// An estimate from samples. For one prompt with N scored samples s₁…s_N, the best of the first n has
    /// probability π_n(y) = π(y)·[F(s)ⁿ − F⁻(s)ⁿ]/[F(s) − F⁻(s)], F the empirical CDF (≤) and F⁻ the strict one
    /// (&lt;) of the N scores, which handles ties exactly for a discrete score distribution (many identical
    /// completions). KL = E_{π_n}[log π_n/π] averaged over prompts, computed from the empirical distribution
    /// of the N scores: Σ over distinct scores v of q_n(v)·log(q_n(v)/q(v)), q_n(v) = F(v)ⁿ − F⁻(v)ⁿ.
    /// </summary>
    /// <param name="scoresPerPrompt">Each prompt's N scores (the selection score, N ≥ n).</param>
    /// <param name="n">Samples the best is chosen from.</param>
    public static double Estimate(IReadOnlyList<IReadOnlyList<double>> scoresPerPrompt, int n)
    {
        if (scoresPerPrompt.Count == 0) throw new ArgumentException("no prompts", nameof(scoresPerPrompt));
        double total = 0;
        foreach (var scores in scoresPerPrompt)
        {
            if (scores.Count < n) throw new ArgumentException($"a prompt has {scores.Count} scores, fewer than n = {n}", nameof(scoresPerPrompt));
            var sorted = scores.OrderBy(s => s).ToArray();
            int N = sorted.Length;
            double kl = 0;
            for (int i = 0; i < N;)
            {
                int j = i;
                while (j < N && sorted[j] == sorted[i]) j++;
                double below = (double)i / N, upTo = (double)j / N, q = upTo - below;
                double qn = Math.Pow(upTo, n) - Math.Pow(below, n);
                if (qn > 0) kl += qn * Math.Log(qn / q);
                i = j;
            }
            total += kl;
        }
        return total / scoresPerPrompt.Count;
    }
}
