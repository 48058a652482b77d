namespace RlhfCore.Data;

/// <summary>
/// One fixed-shape training batch, row-major <c>[BatchSize, SeqLen]</c>. Allocated once and refilled by a
/// batcher every step, so training does not allocate.
/// </summary>
public sealed class SftBatch
{
    /// <summary>Rows (B).</summary>
    public int BatchSize { get; }

    /// <summary>Positions per row (T).</summary>
    public int SeqLen { get; }

    /// <summary>Input ids <c>[B*T]</c>; padding positions hold the batcher's pad id.</summary>
    public int[] Tokens { get; }

    /// <summary>Next-token targets <c>[B*T]</c>; −1 where no loss is taken (prompt targets and padding).</summary>
    public int[] Targets { get; }

    /// <summary>1 where the target counts in the loss, 0 elsewhere <c>[B*T]</c> (equals <c>Targets ≥ 0</c>).</summary>
    public float[] LossMask { get; }

    /// <summary>1 for real tokens, 0 for padding <c>[B*T]</c>.</summary>
    public int[] AttentionMask { get; }

    /// <summary>Position ids <c>[B*T]</c>: 0, 1, … along each row's real tokens, 0 at padding.</summary>
    public int[] Positions { get; }

    /// <summary>Number of targets that count in the loss (the sum of <see cref="LossMask"/>), for normalizing it.</summary>
    public int LossTokenCount { get; internal set; }

    /// <summary>Allocates a batch of <paramref name="batchSize"/> rows of <paramref name="seqLen"/> positions.</summary>
    public SftBatch(int batchSize, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        BatchSize = batchSize;
        SeqLen = seqLen;
        int n = checked(batchSize * seqLen);
        Tokens = new int[n];
        Targets = new int[n];
        LossMask = new float[n];
        AttentionMask = new int[n];
        Positions = new int[n];
    }
}
