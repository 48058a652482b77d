namespace RlhfCore.Rl;

/// <summary>How group-relative advantages are scaled (TRL's <c>scale_rewards</c>).</summary>
public enum RewardScaling
{
    /// <summary>Divide by the group's std (GRPO).</summary>
    Group,
    /// <summary>Divide by the std of the whole batch's returns (TRL's "batch", after Hu et al.'s REINFORCE++ findings).</summary>
    Batch,
    /// <summary>No division: Dr. GRPO (Liu et al. 2025) drops the std, which biases toward too easy or too hard prompts.</summary>
    None,
}

/// <summary>
/// Group-relative advantages with a choice of scaling, on the host in double, as TRL's GRPOTrainer:
/// A_i = R_i − mean of its group of k, divided by (std + 1e-4) where std is the group's (<see cref="RewardScaling.Group"/>,
/// identical to <see cref="SequenceAdvantages.Grpo"/>), the batch's (<see cref="RewardScaling.Batch"/>) or 1 with no ε
/// (<see cref="RewardScaling.None"/>). std is unbiased (torch.std). Samples of one prompt are consecutive groups of k.
/// </summary>
public static class GroupAdvantages
{
    /// <summary>Parses a <c>--scale-rewards</c> value (group, batch, none).</summary>
    public static RewardScaling Parse(string text) => text switch
    {
        "group" => RewardScaling.Group,
        "batch" => RewardScaling.Batch,
        "none" => RewardScaling.None,
        _ => throw new ArgumentException($"--scale-rewards: '{text}' is not one of group, batch, none"),
    };

    /// <summary>Advantages of <paramref name="returns"/> in groups of <paramref name="k"/> (k ≥ 2).</summary>
    public static double[] Compute(double[] returns, int k, RewardScaling scale)
    {
        if (k < 2 || returns.Length % k != 0) throw new ArgumentException($"{returns.Length} sequences do not form groups of k = {k} ≥ 2 samples per prompt");
        var a = new double[returns.Length];
        double batchStd = scale == RewardScaling.Batch ? Std(returns, 0, returns.Length) : 0;
        for (int g = 0; g < returns.Length; g += k)
        {
            double mean = 0;
            for (int i = g; i < g + k; i++) mean += returns[i];
            mean /= k;
            double divisor = scale switch
            {
                RewardScaling.Group => Std(returns, g, k) + 1e-4,
                RewardScaling.Batch => batchStd + 1e-4,
                _ => 1,
            };
            for (int i = g; i < g + k; i++) a[i] = (returns[i] - mean) / divisor;
        }
        return a;
    }

    /// <summary>Unbiased std of x[start, start+count) (0 for a single value).</summary>
    private static double Std(double[] x, int start, int count)
    {
        if (count < 2) return 0;
        double mean = 0, sq = 0;
        for (int i = start; i < start + count; i++) mean += x[i];
        mean /= count;
        for (int i = start; i < start + count; i++) sq += (x[i] - mean) * (x[i] - mean);
        return Math.Sqrt(sq / (count - 1));
    }
}
