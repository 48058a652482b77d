namespace RlhfCore.Tests.Ptx;

// Operand reads and writes: raw bits, typed views, and the check that a float operation gets a float literal.
public sealed partial class PtxCta
{
    /// <summary>The value of a source operand, as raw bits (predicates are 0/1; <c>!%p</c> is inverted).</summary>
    private ulong Val(PtxOperand o, int t, PtxInstruction ins)
    {
        switch (o.Kind)
        {
            case OperandKind.Register:
                ulong v = Reg(o.Reg, t, ins);
                return o.Negated ? (v == 0 ? 1UL : 0UL) : v;
            case OperandKind.Immediate:
                return o.Imm;
            case OperandKind.SharedSymbol:
                return (ulong)o.SymbolAddress;
            case OperandKind.Special:
                int bx = _block.X, by = _block.Y;
                return (ulong)(o.Special switch
                {
                    SpecialRegister.TidX => t % bx, SpecialRegister.TidY => t / bx % by, SpecialRegister.TidZ => t / (bx * by),
                    SpecialRegister.NtidX => bx, SpecialRegister.NtidY => by, SpecialRegister.NtidZ => _block.Z,
                    SpecialRegister.CtaidX => _ctaid.X, SpecialRegister.CtaidY => _ctaid.Y, SpecialRegister.CtaidZ => _ctaid.Z,
                    SpecialRegister.NctaidX => _grid.X, SpecialRegister.NctaidY => _grid.Y, SpecialRegister.NctaidZ => _grid.Z,
                    SpecialRegister.LaneId => t % 32, _ => t / 32,
                });
            default:
                throw ins.Error($"a {o.Kind} operand cannot be read as a value here");
        }
    }

    private uint U32(PtxOperand o, int t, PtxInstruction ins) => (uint)Val(o, t, ins);

    private bool Pred(PtxOperand o, int t, PtxInstruction ins) => Val(o, t, ins) != 0;

    private float F32(PtxOperand o, int t, PtxInstruction ins)
    {
        if (o.Kind == OperandKind.Immediate && o.FloatBits != 32)
            throw ins.Error("an f32 operand must be a register or a 0fXXXXXXXX literal");
        float x = BitConverter.UInt32BitsToSingle((uint)Val(o, t, ins));
        return ins.Ftz ? PtxFloat.Ftz(x) : x;
    }

    private double F64(PtxOperand o, int t, PtxInstruction ins)
    {
        if (o.Kind == OperandKind.Immediate && o.FloatBits != 64)
            throw ins.Error("an f64 operand must be a register or a 0dXXXXXXXXXXXXXXXX literal");
        return BitConverter.UInt64BitsToDouble(Val(o, t, ins));
    }

    /// <summary>Writes a destination register (32-bit results are stored zero-extended).</summary>
    private void Set(PtxOperand o, int t, ulong v, PtxInstruction ins)
    {
        if (o.Kind != OperandKind.Register || o.Negated) throw ins.Error("destination must be a plain register");
        SetReg(o.Reg, t, v);
    }

    private void SetF32(PtxOperand o, int t, float x, PtxInstruction ins) =>
        Set(o, t, BitConverter.SingleToUInt32Bits(ins.Ftz ? PtxFloat.Ftz(x) : x), ins);

    private void SetF64(PtxOperand o, int t, double x, PtxInstruction ins) => Set(o, t, BitConverter.DoubleToUInt64Bits(x), ins);
}
