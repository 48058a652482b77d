namespace RlhfCore.Data;

/// <summary>
/// Where a data stream stands: the epoch, and the index of the next item within that epoch's shuffled
/// order. Save it with a checkpoint and set it back to continue exactly where the run stopped.
/// </summary>
/// <param name="Epoch">0-based epoch; each epoch has its own permutation derived from the seed.</param>
/// <param name="Index">Items of this epoch already consumed.</param>
public readonly record struct DataCursor(int Epoch, int Index);
