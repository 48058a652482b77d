namespace RlhfCore.Rl;

/// <summary>One GSPO evaluation's numbers.</summary>
/// <param name="Loss">Σₙ wₙ·pg of n's sequence.</param>
/// <param name="ClipFrac">Weight share of the sequences whose clipped term is strictly the larger.</param>
/// <param name="MeanRatio">Weight-averaged sequence ratio.</param>
public sealed record SequenceRatioStats(double Loss, double ClipFrac, double MeanRatio);

/// <summary>
/// GSPO's sequence-level importance ratio (Zheng et al. 2025, "Group Sequence Policy Optimization"; TRL's
/// importance_sampling_level="sequence"), on the host in double over per-token log-probabilities:
/// sᵢ = exp((1/|yᵢ|)·Σ_{t∈i} (logp_t − oldLogp_t)) over sequence i's action tokens (|yᵢ| clamped at 1, as TRL),
/// pgᵢ = max(−Aᵢ·sᵢ, −Aᵢ·clamp(sᵢ, 1−ε_low, 1+ε_high)), every token of i carries pgᵢ, and the loss is Σₙ wₙ·pg_{i(n)}
/// with the aggregation weights wₙ (<see cref="LossAggregationWeights"/>). Gradient to every token t of i:
/// ∂L/∂logp_t = Wᵢ·∂pgᵢ/∂sᵢ·sᵢ/|yᵢ| with Wᵢ = Σ_{n∈i} wₙ and ∂pgᵢ/∂sᵢ = −Aᵢ unless clipped (then 0; ties unclipped).
/// The dual clip is a token-level device and is not part of GSPO.
/// </summary>
public static class SequenceRatio
{
    /// <summary>
    /// Evaluates the objective for <paramref name="rows"/> sequences of T = mask.Length / rows tokens, writing the
    /// sequence ratios into <paramref name="ratios"/> [rows] and ∂L/∂logp into <paramref name="dlogp"/> [rows·T] (0 off the mask).
    /// </summary>
    public static SequenceRatioStats Evaluate(ReadOnlySpan<float> logp, ReadOnlySpan<float> oldLogp, ReadOnlySpan<float> mask,
        ReadOnlySpan<float> weights, ReadOnlySpan<double> advantages, int rows, PolicyClip clip, Span<double> ratios, Span<float> dlogp)
    {
        clip.Validate();
        if (clip.Dual != 0) throw new ArgumentException("GSPO: the dual clip is token-level; use --dual-clip 0 with --importance-level sequence");
        int N = mask.Length;
        if (rows <= 0 || N % rows != 0 || logp.Length != N || oldLogp.Length != N || weights.Length != N || dlogp.Length != N
            || advantages.Length != rows || ratios.Length != rows)
            throw new ArgumentException($"GSPO: inputs do not form {rows} sequences of {N} tokens in all (one advantage and ratio per sequence)");
        int T = N / rows;
        double loss = 0, clipFrac = 0, meanRatio = 0;
        for (int b = 0; b < rows; b++)
        {
            double len = 0, sum = 0, W = 0;
            for (int t = b * T; t < (b + 1) * T; t++)
            {
                if (mask[t] == 0) continue;
                len += mask[t];
                sum += mask[t] * ((double)logp[t] - oldLogp[t]);
                W += weights[t];
            }
            len = Math.Max(len, 1);
            double s = Math.Exp(sum / len), A = advantages[b];
            double pg1 = -A * s, pg2 = -A * Math.Clamp(s, 1 - clip.Low, 1 + clip.High);
            bool clipped = pg2 > pg1;
            ratios[b] = s;
            loss += W * Math.Max(pg1, pg2);
            clipFrac += clipped ? W : 0;
            meanRatio += W * s;
            double g = clipped ? 0 : W * -A * s / len;
            for (int t = b * T; t < (b + 1) * T; t++) dlogp[t] = mask[t] == 0 ? 0f : (float)(g * mask[t]);
        }
        return new SequenceRatioStats(loss, clipFrac, meanRatio);
    }
}
