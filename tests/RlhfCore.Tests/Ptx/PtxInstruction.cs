namespace RlhfCore.Tests.Ptx;

/// <summary>The instructions the emulator executes.</summary>
public enum PtxOp
{
    Mov, Add, Sub, Mul, Mad, Fma, Neg, Min, Max, Div, Rem, And, Or, Xor, Not, Shl, Shr, Bfe, Brev, Bfind,
    Setp, Selp, Cvt, CvtBf16x2, Cvta, Ex2, Lg2, Rcp, Ld, St, Ldmatrix, Mma, Shfl, Vote, Bar, Bra, Ret,
}

/// <summary>PTX fundamental types (the subset the emulator knows).</summary>
public enum PtxType { None, Pred, B16, B32, B64, U32, U64, S32, S64, F32, F64 }

/// <summary>setp comparisons (ordered for floats; the unordered ones are not supported).</summary>
public enum PtxCmp { Eq, Ne, Lt, Le, Gt, Ge }

/// <summary>The predicate combine of <c>setp.cmp.and/or/xor</c>.</summary>
public enum PtxBoolOp { None, And, Or, Xor }

/// <summary>State spaces of ld/st.</summary>
public enum PtxSpace { Param, Global, Shared }

/// <summary>shfl modes.</summary>
public enum PtxShfl { Up, Down, Bfly, Idx }

/// <summary>Integer multiply variants.</summary>
public enum PtxMulMode { None, Lo, Wide }

/// <summary>One decoded instruction: opcode and modifiers as fields, operands resolved, source line kept.</summary>
public sealed class PtxInstruction
{
    /// <summary>1-based line in the PTX file.</summary>
    public required int Line { get; init; }
    /// <summary>The statement as written (guard included), for error messages.</summary>
    public required string Text { get; init; }
    public required PtxOp Op { get; init; }
    /// <summary>The instruction type (destination type of cvt).</summary>
    public PtxType Type { get; init; }
    /// <summary>Source type of cvt.</summary>
    public PtxType SrcType { get; init; }
    public PtxCmp Cmp { get; init; }
    public PtxBoolOp BoolOp { get; init; }
    public PtxSpace Space { get; init; }
    /// <summary>Vector width of ld/st (1, 2 or 4), matrix count of ldmatrix (1, 2 or 4).</summary>
    public int Vec { get; init; } = 1;
    public PtxMulMode MulMode { get; init; }
    /// <summary>.ftz: subnormal f32 inputs and results flushed to sign-preserving zero.</summary>
    public bool Ftz { get; init; }
    /// <summary>ldmatrix .trans.</summary>
    public bool Trans { get; init; }
    /// <summary>bfind .shiftamt.</summary>
    public bool ShiftAmt { get; init; }
    /// <summary>bra.uni / ret.uni: the branch is promised warp-uniform (checked).</summary>
    public bool Uni { get; init; }
    public PtxShfl Shfl { get; init; }
    /// <summary>Guard predicate register, or -1.</summary>
    public int Guard { get; init; } = -1;
    /// <summary>Guard written <c>@!%p</c>.</summary>
    public bool GuardNegated { get; init; }
    public required PtxOperand[] Operands { get; init; }

    /// <summary>An error at this instruction.</summary>
    public PtxException Error(string what) => PtxException.At(Line, Text, what);
}
