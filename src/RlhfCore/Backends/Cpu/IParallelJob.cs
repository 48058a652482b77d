namespace RlhfCore.Backends.Cpu;

/// <summary>
/// A unit of parallel work: <see cref="Execute"/> handles task <c>index</c> of a range. Jobs are structs
/// passed by reference so dispatch allocates nothing.
/// </summary>
public interface IParallelJob
{
    /// <summary>Runs task <paramref name="index"/>; tasks must write disjoint outputs.</summary>
    void Execute(int index);
}
