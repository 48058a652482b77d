namespace RlhfCore.Rl;

/// <summary>
/// Sequence-level advantages of the critic-free methods, on the host in double: each sequence's return
/// R_i (the sum of its per-token rewards: the score, minus the KL penalty when it is in the reward) gets
/// a baseline, and the advantage is spread over every response token of the sequence.
/// Samples of one prompt are consecutive groups of k.
/// </summary>
public static class SequenceAdvantages
{
    /// <summary>R_i = Σ_t rewards over sequence i's action rows.</summary>
    public static double[] Returns(RolloutBatch r, float[] tokenRewards)
    {
        var R = new double[r.B];
        for (int n = 0; n < tokenRewards.Length; n++) if (r.Mask[n] != 0) R[n / r.T] += tokenRewards[n];
        return R;
    }

    /// <summary>RLOO: A_i = R_i − (Σ_{j≠i} R_j)/(k − 1) within each group of k.</summary>
    public static double[] Rloo(double[] returns, int k)
    {
        CheckGroups(returns.Length, k);
        var a = new double[returns.Length];
        for (int g = 0; g < returns.Length; g += k)
        {
            double sum = 0;
            for (int i = g; i < g + k; i++) sum += returns[i];
            for (int i = g; i < g + k; i++) a[i] = returns[i] - (sum - returns[i]) / (k - 1);
        }
        return a;
    }

    /// <summary>GRPO: A_i = (R_i − mean)/(std + 1e-4) within each group of k (unbiased std, as torch.std in TRL): <see cref="GroupAdvantages"/> with group scaling.</summary>
    public static double[] Grpo(double[] returns, int k) => GroupAdvantages.Compute(returns, k, RewardScaling.Group);

    /// <summary>
    /// REINFORCE: A_t = G_t − b, with G_t the discounted return-to-go (<paramref name="returnsToGo"/>) on
    /// action rows and b the baseline (a moving average of earlier rollouts' mean R_i).
    /// </summary>
    public static float[] Reinforce(RolloutBatch r, float[] returnsToGo, double baseline)
    {
        var a = new float[returnsToGo.Length];
        for (int n = 0; n < a.Length; n++) if (r.Mask[n] != 0) a[n] = (float)(returnsToGo[n] - baseline);
        return a;
    }

    /// <summary>Per-sequence advantages copied onto every action row of their sequence.</summary>
    public static float[] Spread(RolloutBatch r, double[] perSequence)
    {
        var a = new float[r.Mask.Length];
        for (int n = 0; n < a.Length; n++) if (r.Mask[n] != 0) a[n] = (float)perSequence[n / r.T];
        return a;
    }

    private static void CheckGroups(int count, int k)
    {
        if (k < 2 || count % k != 0) throw new ArgumentException($"{count} sequences do not form groups of k = {k} ≥ 2 samples per prompt");
    }
}
