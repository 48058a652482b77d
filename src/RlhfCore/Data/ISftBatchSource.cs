namespace RlhfCore.Data;

/// <summary>An endless, deterministic stream of SFT batches whose position can be saved and restored.</summary>
public interface ISftBatchSource
{
    /// <summary>Fills <paramref name="batch"/> with the next batch and advances.</summary>
    void Next(SftBatch batch);

    /// <summary>Where the stream stands (a checkpoint stores it so a resumed run sees the same batches).</summary>
    DataCursor Cursor { get; set; }
}
