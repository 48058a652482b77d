namespace RlhfCore.Tests.Ptx;

/// <summary>What an operand is, decided once at parse time so that execution never looks at text.</summary>
public enum OperandKind
{
    /// <summary>A declared register (<see cref="PtxOperand.Reg"/>), optionally negated (<c>!%p</c>).</summary>
    Register,
    /// <summary>An integer literal, or the bits of a <c>0f</c>/<c>0d</c> float literal.</summary>
    Immediate,
    /// <summary>%tid.x, %ctaid.y, %laneid, ...</summary>
    Special,
    /// <summary>A .shared variable used as a value: its shared-window address.</summary>
    SharedSymbol,
    /// <summary><c>[base+offset]</c>; the base is a register, a .shared symbol or the .param block.</summary>
    Address,
    /// <summary><c>{a, b, ...}</c>.</summary>
    Vector,
    /// <summary>A branch target.</summary>
    Label,
    /// <summary><c>%d|%p</c>: shfl's value and in-range predicate destinations.</summary>
    Pair,
}

/// <summary>The special registers the emulator provides.</summary>
public enum SpecialRegister { TidX, TidY, TidZ, NtidX, NtidY, NtidZ, CtaidX, CtaidY, CtaidZ, NctaidX, NctaidY, NctaidZ, LaneId, WarpId }

/// <summary>One parsed operand.</summary>
public sealed class PtxOperand
{
    /// <summary>What the operand is.</summary>
    public OperandKind Kind { get; init; }
    /// <summary>Register index in the entry's register file (Register, and the first of a Pair).</summary>
    public int Reg { get; init; } = -1;
    /// <summary>Second register of a Pair (the predicate).</summary>
    public int Reg2 { get; init; } = -1;
    /// <summary>Register operand written <c>!%p</c>.</summary>
    public bool Negated { get; init; }
    /// <summary>Immediate bits (sign-extended to 64 bits for negative literals).</summary>
    public ulong Imm { get; init; }
    /// <summary>32 for a <c>0fXXXXXXXX</c> literal, 64 for <c>0dXXXXXXXXXXXXXXXX</c>, 0 for an integer literal.</summary>
    public int FloatBits { get; init; }
    /// <summary>Which special register.</summary>
    public SpecialRegister Special { get; init; }
    /// <summary>Shared-window address of a SharedSymbol, or of an Address whose base is a .shared symbol.</summary>
    public long SymbolAddress { get; init; }
    /// <summary>Elements of a Vector.</summary>
    public PtxOperand[] Elements { get; init; } = [];
    /// <summary>Address base: a Register operand, or null for a symbol base (param block or .shared).</summary>
    public PtxOperand? Base { get; init; }
    /// <summary>Address base is the entry's .param block.</summary>
    public bool IsParam { get; init; }
    /// <summary>Byte offset of an Address.</summary>
    public long Offset { get; init; }
    /// <summary>Label name; resolved to <see cref="Target"/> after the body is read.</summary>
    public string Name { get; init; } = "";
    /// <summary>Instruction index a Label points at.</summary>
    public int Target { get; set; } = -1;
}
