namespace RlhfCore.Data;

/// <summary>A training data stream whose position is a <see cref="DataCursor"/>: a checkpoint saves it, a resume sets it.</summary>
public interface IResumableStream
{
    /// <summary>The position of the next item; set it to resume.</summary>
    DataCursor Cursor { get; set; }
}
