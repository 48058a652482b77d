namespace RlhfCore.Tests.Ptx;

/// <summary>One parsed <c>.entry</c>: its parameter block, register file, shared-memory layout and code.</summary>
public sealed class PtxKernel
{
    /// <summary>The entry name.</summary>
    public required string Name { get; init; }
    /// <summary>Name of the single <c>.param .b8 name[N]</c> block.</summary>
    public required string ParamName { get; init; }
    /// <summary>Size of the parameter block in bytes.</summary>
    public required int ParamBytes { get; init; }
    /// <summary><c>.reqntid</c> (exact block shape), when declared.</summary>
    public (int X, int Y, int Z)? ReqNtid { get; init; }
    /// <summary><c>.maxntid</c> (upper bound on the block's threads), when declared.</summary>
    public (int X, int Y, int Z)? MaxNtid { get; init; }
    /// <summary>Register names by index (for error messages).</summary>
    public required string[] Registers { get; init; }
    /// <summary>Bytes of static shared memory (module-scope and entry-scope variables).</summary>
    public required int SharedBytes { get; init; }
    /// <summary>The body, in order; branch targets are indices into it.</summary>
    public required PtxInstruction[] Code { get; init; }
    /// <summary>Per instruction of <see cref="Code"/>: how many times it ran with at least one active thread (coverage).</summary>
    public required long[] Issued { get; init; }
}
