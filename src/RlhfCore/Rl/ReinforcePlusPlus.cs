namespace RlhfCore.Rl;

/// <summary>
/// REINFORCE++ (Hu et al. 2025, arXiv 2501.03262; OpenRLHF's and verl's <c>reinforce_plus_plus</c>): no critic and
/// no per-prompt baseline; the KL penalty goes into the per-token reward (r_t = −β·KL_t, plus the score at the last
/// token: <see cref="RewardShaping.TokenRewards"/> with klInReward), the advantage of a token is its discounted
/// return-to-go, and the advantages are whitened over the whole global batch's action tokens (verl's masked_whiten:
/// mean removed, unbiased variance, ε = 1e-8).
/// </summary>
public static class ReinforcePlusPlus
{
    /// <summary>
    /// G_t = r_t + γ·G_{t+1} along each row of [rows, T], over action rows only (mask 0 rows are skipped and get 0),
    /// in double: the same numbers as GAE with zero values and λ = 1.
    /// </summary>
    public static double[] ReturnsToGo(float[] rewards, float[] mask, int rows, double gamma)
    {
        if (rows <= 0 || rewards.Length != mask.Length || mask.Length % rows != 0)
            throw new ArgumentException($"REINFORCE++: {rewards.Length} rewards and {mask.Length} mask entries do not form {rows} rows");
        int T = mask.Length / rows;
        var g = new double[rewards.Length];
        for (int b = 0; b < rows; b++)
        {
            double running = 0;
            for (int t = T - 1; t >= 0; t--)
            {
                int n = b * T + t;
                if (mask[n] == 0) continue;
                running = rewards[n] + gamma * running;
                g[n] = running;
            }
        }
        return g;
    }

    /// <summary>Advantages: the returns-to-go whitened over every action token of the batch (0 elsewhere), as float per token.</summary>
    public static float[] Advantages(double[] returnsToGo, float[] mask)
    {
        var a = (double[])returnsToGo.Clone();
        RewardShaping.MaskedWhiten(a, mask, shiftMean: true);
        return a.Select(x => (float)x).ToArray();
    }
}
