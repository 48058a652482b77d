namespace RlhfCore.Data;

/// <summary>
/// Pre-training-style batches from one token stream (documents joined, each ending in EOS): the stream is
/// cut into windows of <c>SeqLen + 1</c> tokens that overlap by one (window w covers
/// <c>[w·T, w·T + T]</c>), each row is one window, and every position is real and trained on. Windows
/// are visited in a seeded shuffled order; the tail that does not fill a window is not used.
/// </summary>
public sealed class PackedStreamBatcher : ISftBatchSource
{
    private readonly int[] _stream;
    private readonly ShuffleSampler _sampler;

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Positions per row.</summary>
    public int SeqLen { get; }

    /// <summary>Windows per epoch.</summary>
    public int WindowCount { get; }

    /// <summary>Creates the batcher over <paramref name="stream"/>, whose ids must lie in <c>[0, vocabSize)</c>.</summary>
    /// <exception cref="ArgumentException">The stream has an id outside the vocabulary (named) or is shorter than one window.</exception>
    public PackedStreamBatcher(int[] stream, int batchSize, int seqLen, int vocabSize, ulong seed, bool shuffle = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        for (int i = 0; i < stream.Length; i++)
            if ((uint)stream[i] >= (uint)vocabSize)
                throw new ArgumentException($"token id {stream[i]} at stream position {i} is outside the vocabulary [0, {vocabSize})", nameof(stream));
        WindowCount = stream.Length <= seqLen ? 0 : (stream.Length - 1) / seqLen;
        if (WindowCount == 0)
            throw new ArgumentException($"a stream of {stream.Length} tokens is shorter than one window of {seqLen} + 1", nameof(stream));
        _stream = stream;
        _sampler = new ShuffleSampler(WindowCount, seed, shuffle);
        BatchSize = batchSize;
        SeqLen = seqLen;
    }

    /// <summary>
    /// Joins the examples' tokens (each already ends in EOS) into one stream. Only examples without a
    /// prompt qualify: packing trains on every token, prompt tokens included.
    /// </summary>
    /// <exception cref="DataFormatException">An example has untrained (prompt) targets; names its file and line.</exception>
    public static int[] BuildStream(IEnumerable<SftExample> examples)
    {
        var stream = new List<int>();
        foreach (var ex in examples)
        {
            if (ex.PromptLength > 0)
                throw new DataFormatException(ex.FilePath, ex.Line, "prompt",
                    "is set, but packed batches train on every token; use one example per row for prompt/completion data");
            stream.AddRange(ex.Tokens);
        }
        return stream.ToArray();
    }

    /// <summary>Position in the window stream; save it and set it back to resume exactly.</summary>
    public DataCursor Cursor { get => _sampler.Cursor; set => _sampler.Cursor = value; }

    /// <summary>Fills <paramref name="batch"/> with the next <see cref="BatchSize"/> windows.</summary>
    public void Next(SftBatch batch)
    {
        if (batch.BatchSize != BatchSize || batch.SeqLen != SeqLen)
            throw new ArgumentException($"batch is [{batch.BatchSize}, {batch.SeqLen}], batcher makes [{BatchSize}, {SeqLen}]", nameof(batch));
        for (int row = 0; row < BatchSize; row++)
        {
            var window = _stream.AsSpan(_sampler.Next() * SeqLen, SeqLen + 1);
            int offset = row * SeqLen;
            window[..SeqLen].CopyTo(batch.Tokens.AsSpan(offset, SeqLen));
            window[1..].CopyTo(batch.Targets.AsSpan(offset, SeqLen));
            batch.LossMask.AsSpan(offset, SeqLen).Fill(1f);
            batch.AttentionMask.AsSpan(offset, SeqLen).Fill(1);
            for (int t = 0; t < SeqLen; t++) batch.Positions[offset + t] = t;
        }
        batch.LossTokenCount = BatchSize * SeqLen;
    }
}
