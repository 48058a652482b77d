namespace RlhfCore.Rl;

/// <summary>
/// How per-token losses become one number (verl's <c>loss_agg_mode</c> names; TRL's loss_type "grpo" is
/// <see cref="SeqMeanTokenMean"/>, "bnpo"/"dapo" is <see cref="TokenMean"/>, "dr_grpo" is <see cref="SeqMeanTokenSumNorm"/>).
/// </summary>
public enum LossAggregation
{
    /// <summary>Σ over all action tokens / their count: every token weighs the same (DAPO's token-level loss; PPO's default).</summary>
    TokenMean,
    /// <summary>Each sequence's token sum, averaged over the sequences.</summary>
    SeqMeanTokenSum,
    /// <summary>Each sequence's token mean, averaged over the sequences (GRPO as in DeepSeekMath).</summary>
    SeqMeanTokenMean,
    /// <summary>
    /// Σ over all action tokens / (sequences · max generation length): Dr. GRPO's constant normalizer (Liu et al. 2025),
    /// as TRL's dr_grpo. verl divides by the max length only, a constant factor (the sequence count) apart.
    /// </summary>
    SeqMeanTokenSumNorm,
}

/// <summary>The per-token weights wₙ of a <see cref="LossAggregation"/>, so that loss = Σₙ wₙ·lossₙ (the loss kernel's weights).</summary>
public static class LossAggregationWeights
{
    /// <summary>The flag's spelling of each mode (verl's names).</summary>
    public static string Name(LossAggregation mode) => mode switch
    {
        LossAggregation.TokenMean => "token-mean",
        LossAggregation.SeqMeanTokenSum => "seq-mean-token-sum",
        LossAggregation.SeqMeanTokenMean => "seq-mean-token-mean",
        _ => "seq-mean-token-sum-norm",
    };

    /// <summary>Parses a <c>--loss-aggregation</c> value; an unknown one is an error listing the valid names.</summary>
    public static LossAggregation Parse(string text)
    {
        foreach (var m in Enum.GetValues<LossAggregation>())
            if (Name(m) == text) return m;
        throw new ArgumentException($"--loss-aggregation: '{text}' is not one of {string.Join(", ", Enum.GetValues<LossAggregation>().Select(Name))}");
    }

    /// <summary>
    /// Weights for <paramref name="rows"/> sequences of T = mask.Length / rows tokens each (row n belongs to sequence n / T):
    /// token-mean mask/Σmask; seq-mean-token-sum mask/rows; seq-mean-token-mean mask/(rows·Lᵢ) with Lᵢ sequence i's
    /// action tokens; seq-mean-token-sum-norm mask/(rows·<paramref name="maxLength"/>). Sequence means run over all
    /// <paramref name="rows"/> (as torch.mean in verl), so a sequence without action tokens still counts in the denominator.
    /// All weights are 0 when the mask is all 0.
    /// </summary>
    public static float[] Compute(float[] mask, int rows, LossAggregation mode, int maxLength)
    {
        var w = new float[mask.Length];
        Fill(mask, rows, mode, maxLength, w);
        return w;
    }

    /// <summary><see cref="Compute"/> into <paramref name="w"/> (mask.Length entries, all overwritten): nothing is allocated, so a minibatch can call it.</summary>
    public static void Fill(ReadOnlySpan<float> mask, int rows, LossAggregation mode, int maxLength, Span<float> w)
    {
        if (w.Length != mask.Length) throw new ArgumentException($"loss aggregation: {w.Length} weights for {mask.Length} mask entries");
        if (rows <= 0 || mask.Length % rows != 0)
            throw new ArgumentException($"loss aggregation: {mask.Length} mask entries do not form {rows} sequences of equal length");
        if (mode == LossAggregation.SeqMeanTokenSumNorm && maxLength <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "loss aggregation seq-mean-token-sum-norm: the max generation length must be positive");
        int T = mask.Length / rows;
        w.Clear();
        double total = 0;
        foreach (float m in mask) total += m;
        if (total == 0) return;
        for (int b = 0; b < rows; b++)
        {
            double len = 0;
            for (int t = 0; t < T; t++) len += mask[b * T + t];
            if (len == 0) continue;
            double scale = mode switch
            {
                LossAggregation.TokenMean => 1 / total,
                LossAggregation.SeqMeanTokenSum => 1.0 / rows,
                LossAggregation.SeqMeanTokenMean => 1 / (rows * len),
                _ => 1.0 / ((double)rows * maxLength),
            };
            for (int t = 0; t < T; t++) w[b * T + t] = (float)(mask[b * T + t] * scale);
        }
    }
}
