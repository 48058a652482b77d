namespace RlhfCore.Embedding;

/// <summary>
/// Checks a caller's <c>[rows, seq_len]</c> token ids and attention mask and derives what the model
/// reads: positions that count real tokens only (0 at padding), and each row's length when rows must be
/// right-padded. Every error names the argument, the row and the column.
/// </summary>
internal static class TokenRows
{
    /// <summary>Copies ids and mask (all ones when <paramref name="mask"/> is empty) and writes positions.</summary>
    public static void Fill(ReadOnlySpan<int> tokens, ReadOnlySpan<int> mask, int rows, int T, int vocab,
        Span<int> tokensOut, Span<int> maskOut, Span<int> positions)
    {
        for (int r = 0; r < rows; r++)
        {
            int position = 0;
            for (int t = 0; t < T; t++)
            {
                int i = r * T + t, m = Checked(tokens, mask, r, t, T, vocab);
                tokensOut[i] = tokens[i];
                maskOut[i] = m;
                positions[i] = m == 1 ? position++ : 0;
            }
        }
    }

    /// <summary>Each row's length for right-padded rows (the mask is ones then zeros, at least one token).</summary>
    public static int[] RightPaddedLengths(ReadOnlySpan<int> tokens, ReadOnlySpan<int> mask, int rows, int T, int vocab)
    {
        var lengths = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int length = 0;
            for (int t = 0; t < T; t++)
            {
                int m = Checked(tokens, mask, r, t, T, vocab);
                if (m == 1 && length != t) throw new ArgumentException($"attention_mask row {r} is not right-padded: a real token at column {t} follows padding");
                length += m;
            }
            if (length == 0) throw new ArgumentException($"attention_mask row {r} has no real token");
            lengths[r] = length;
        }
        return lengths;
    }

    /// <summary>The mask value at [r, t] after checking it and the id there.</summary>
    private static int Checked(ReadOnlySpan<int> tokens, ReadOnlySpan<int> mask, int r, int t, int T, int vocab)
    {
        int i = r * T + t, id = tokens[i], m = mask.IsEmpty ? 1 : mask[i];
        if ((uint)id >= (uint)vocab) throw new ArgumentException($"tokens[{r}][{t}] = {id} is outside the vocabulary [0, {vocab})");
        if (m is not (0 or 1)) throw new ArgumentException($"attention_mask[{r}][{t}] = {m}; it must be 0 or 1");
        return m;
    }

    /// <summary>Throws unless the batch shape is usable on a model with context <paramref name="maxSeqLen"/>.</summary>
    public static void CheckShape(int rows, int T, int maxSeqLen, string rowsName = "batch")
    {
        if (rows < 1) throw new ArgumentException($"{rowsName} must be at least 1, got {rows}");
        if (T < 1 || T > maxSeqLen) throw new ArgumentException($"seq_len {T} must be in [1, {maxSeqLen}] (the model's max_seq_len)");
    }
}
