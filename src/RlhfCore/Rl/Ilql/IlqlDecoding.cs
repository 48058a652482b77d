namespace RlhfCore.Rl.Ilql;

/// <summary>
/// ILQL's decoding (trlx's AutoModelForCausalLMWithILQLHeads.generate): the behaviour policy's log-probabilities shifted by
/// the advantage of each token, log softmax(logits) + β·(min target Q − V). log softmax differs from the logits by one
/// constant per row, so softmax, sampling and argmax are those of logits + β·(Q − V).
/// </summary>
public static class IlqlDecoding
{
    /// <summary>
    /// output[b, v] = log softmax(logits[b])[v] + β·(minTargetQ[b, v] − values[b]) for rows [B, V] on the host
    /// (output may alias logits). Inputs must be finite.
    /// </summary>
    public static void ShiftedLogits(ReadOnlySpan<float> logits, ReadOnlySpan<float> minTargetQ, ReadOnlySpan<float> values, double beta, int B, int V,
        Span<float> output)
    {
        if (logits.Length < (long)B * V || minTargetQ.Length < (long)B * V || values.Length < B || output.Length < (long)B * V)
            throw new ArgumentException($"ILQL decoding: buffers smaller than {B} rows of {V}");
        if (!double.IsFinite(beta) || beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"ILQL decoding β: {beta} must be finite and ≥ 0");
        for (int b = 0; b < B; b++)
        {
            var row = logits.Slice(b * V, V);
            double m = double.NegativeInfinity, s = 0;
            foreach (float x in row) m = Math.Max(m, x);
            foreach (float x in row) s += Math.Exp(x - m);
            double lse = m + Math.Log(s), v = values[b];
            for (int j = 0; j < V; j++)
                output[b * V + j] = (float)(row[j] - lse + beta * (minTargetQ[b * V + j] - v));
        }
    }

    /// <summary>min over the heads of their rows (element by element), for two target heads; one head is returned as is.</summary>
    public static float[] MinOfHeads(IReadOnlyList<float[]> targetQs)
    {
        if (targetQs.Count == 0) throw new ArgumentException("ILQL decoding: no target Q head");
        var m = (float[])targetQs[0].Clone();
        for (int i = 1; i < targetQs.Count; i++)
            for (int j = 0; j < m.Length; j++) m[j] = Math.Min(m[j], targetQs[i][j]);
        return m;
    }
}
