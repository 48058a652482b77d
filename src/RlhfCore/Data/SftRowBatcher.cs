namespace RlhfCore.Data;

/// <summary>
/// Batches SFT examples one per row, right-padded: row r, position t holds <c>Tokens[t]</c> of an example,
/// target <c>Tokens[t+1]</c> where the loss mask allows it, and padding after the example's inputs.
/// Examples come from a seeded <see cref="ShuffleSampler"/>; a batch may span an epoch boundary.
/// </summary>
public sealed class SftRowBatcher : ISftBatchSource
{
    private readonly IReadOnlyList<SftExample> _examples;
    private readonly ShuffleSampler _sampler;
    private readonly int _padId;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Positions per row (the model's context).</summary>
    public int SeqLen { get; }

    /// <summary>Creates the batcher; every example must fit <paramref name="seqLen"/> inputs.</summary>
    /// <param name="padId">Id placed at padding positions (masked out; any valid id, e.g. the end-of-text id).</param>
    /// <exception cref="DataFormatException">An example is longer than <paramref name="seqLen"/> inputs.</exception>
    public SftRowBatcher(IReadOnlyList<SftExample> examples, int batchSize, int seqLen, ulong seed, int padId, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        if (examples.Count == 0) throw new ArgumentException("no SFT examples to batch", nameof(examples));
        foreach (var ex in examples)
            if (ex.InputLength > seqLen)
                throw new DataFormatException(ex.FilePath, ex.Line, null, $"the example needs {ex.InputLength} positions, more than the batch's {seqLen}");
        _examples = examples;
        _sampler = new ShuffleSampler(examples.Count, seed, shuffle);
        _padId = padId;
        BatchSize = batchSize;
        SeqLen = seqLen;
    }

    /// <summary>Position in the example stream; save it and set it back to resume exactly.</summary>
    public DataCursor Cursor { get => _sampler.Cursor; set => _sampler.Cursor = value; }

    /// <summary>Fills <paramref name="batch"/> with the next <see cref="BatchSize"/> examples.</summary>
    public void Next(SftBatch batch)
    {
        if (batch.BatchSize != BatchSize || batch.SeqLen != SeqLen)
            throw new ArgumentException($"batch is [{batch.BatchSize}, {batch.SeqLen}], batcher makes [{BatchSize}, {SeqLen}]", nameof(batch));
        int lossTokens = 0;
        for (int row = 0; row < BatchSize; row++)
        {
            var ex = _examples[_sampler.Next()];
            int offset = row * SeqLen, n = ex.InputLength;
            for (int t = 0; t < SeqLen; t++)
            {
                int i = offset + t;
                bool real = t < n, trained = real && ex.LossMask[t];
                batch.Tokens[i] = real ? ex.Tokens[t] : _padId;
                batch.Targets[i] = trained ? ex.Tokens[t + 1] : -1;
                batch.LossMask[i] = trained ? 1f : 0f;
                batch.AttentionMask[i] = real ? 1 : 0;
                batch.Positions[i] = real ? t : 0;
                if (trained) lossTokens++;
            }
        }
        batch.LossTokenCount = lossTokens;
    }
}
