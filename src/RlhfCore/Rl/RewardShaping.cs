namespace RlhfCore.Rl;

/// <summary>
/// From scores to per-token rewards, on the host in double (per-sequence and per-token vectors are small):
/// the score adjustments (missing-EOS penalty, clipping), the per-token KL, and the InstructGPT reward
/// r_t = −β·KL_t on every response token with the score added at the last one.
/// </summary>
public static class RewardShaping
{
    /// <summary>
    /// Scores after subtracting <paramref name="missingEosPenalty"/> from responses without EOS (when an
    /// EOS token stops responses) and clipping to [−<paramref name="clip"/>, <paramref name="clip"/>] (when clip &gt; 0).
    /// </summary>
    public static double[] AdjustScores(double[] raw, bool[] stoppedAtEos, bool eosStops, double missingEosPenalty, double clip)
    {
        var s = (double[])raw.Clone();
        for (int i = 0; i < s.Length; i++)
        {
            if (eosStops && !stoppedAtEos[i]) s[i] -= missingEosPenalty;
            if (clip > 0) s[i] = Math.Clamp(s[i], -clip, clip);
        }
        return s;
    }

    /// <summary>KL_t on every action row of <paramref name="r"/> (0 elsewhere), from the rollout's log-probabilities.</summary>
    public static double[] TokenKl(RolloutBatch r, KlEstimator estimator)
    {
        var kl = new double[r.Mask.Length];
        for (int n = 0; n < kl.Length; n++)
            if (r.Mask[n] != 0) kl[n] = Kl.Estimate(estimator, r.Logp[n], r.RefLogp[n]);
        return kl;
    }

    /// <summary>
    /// Per-token rewards: −<paramref name="beta"/>·KL_t on action rows when <paramref name="klInReward"/>,
    /// plus each sequence's score at its last action row; whitened over the action rows (mean kept,
    /// as TRL's whiten_rewards) when <paramref name="whiten"/>.
    /// </summary>
    public static float[] TokenRewards(RolloutBatch r, double[] scores, double[] tokenKl, double beta, bool klInReward, bool whiten)
    {
        var rewards = new double[r.Mask.Length];
        if (klInReward)
            for (int n = 0; n < rewards.Length; n++) rewards[n] = -beta * tokenKl[n];
        for (int b = 0; b < r.B; b++) rewards[r.LastActionRow(b)] += scores[b];
        if (whiten) MaskedWhiten(rewards, r.Mask, shiftMean: false);
        return rewards.Select(x => (float)x).ToArray();
    }

    /// <summary>
    /// x ← (x − mean)/√(var + 1e-8) over the rows where mask ≠ 0 (unbiased variance, as TRL's masked_whiten),
    /// adding the mean back when <paramref name="shiftMean"/> is false; other rows become 0.
    /// </summary>
    public static void MaskedWhiten(double[] x, float[] mask, bool shiftMean)
    {
        var (mean, variance) = MaskedMoments(x, mask);
        double scale = 1 / Math.Sqrt(variance + 1e-8);
        for (int i = 0; i < x.Length; i++)
            x[i] = mask[i] == 0 ? 0 : (x[i] - mean) * scale + (shiftMean ? 0 : mean);
    }

    /// <summary>Mean and unbiased variance of x over rows where mask ≠ 0 (variance 0 for fewer than two rows).</summary>
    public static (double Mean, double Variance) MaskedMoments(double[] x, float[] mask)
    {
        double count = 0, sum = 0;
        for (int i = 0; i < x.Length; i++) if (mask[i] != 0) { count++; sum += x[i]; }
        if (count == 0) return (0, 0);
        double mean = sum / count, sq = 0;
        for (int i = 0; i < x.Length; i++) if (mask[i] != 0) sq += (x[i] - mean) * (x[i] - mean);
        return (mean, count > 1 ? sq / (count - 1) : 0);
    }
}
