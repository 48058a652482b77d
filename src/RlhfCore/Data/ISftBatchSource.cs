namespace RlhfCore.Data;

/// <summary>An endless, deterministic stream of SFT batches whose position can be saved and restored.</summary>
public interface ISftBatchSource : IResumableStream
{
    /// <summary>Fills <paramref name="batch"/> with the next batch and advances.</summary>
    void Next(SftBatch batch);
}
