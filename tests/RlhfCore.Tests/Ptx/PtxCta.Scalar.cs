using System.Numerics;

namespace RlhfCore.Tests.Ptx;

// Per-thread instructions: integer, float and predicate arithmetic, comparisons, conversions, moves.
// f32/f64 arithmetic is IEEE with round-to-nearest-even, as the PTX .rn default; C# float operations are
// exactly that (RyuJIT evaluates float in single precision). Note that ptxas may contract a separate
// mul.f32 + add.f32 (without .rn) into one fma on the device; the emulator does not, a difference of one
// rounding that every tolerance here covers.
public sealed partial class PtxCta
{
    private void Execute(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        switch (ins.Op)
        {
            case PtxOp.Mov: Move(ins, t); break;
            case PtxOp.Add or PtxOp.Sub or PtxOp.Mul or PtxOp.Mad or PtxOp.Fma or PtxOp.Neg or PtxOp.Min or PtxOp.Max or PtxOp.Div or PtxOp.Rem:
                if (ins.Type == PtxType.F32) FloatOp(ins, t);
                else if (ins.Type == PtxType.F64) DoubleOp(ins, t);
                else IntOp(ins, t);
                break;
            case PtxOp.And or PtxOp.Or or PtxOp.Xor or PtxOp.Not:
            {
                ulong a = Val(o[1], t, ins), b = ins.Op == PtxOp.Not ? 0 : Val(o[2], t, ins);
                ulong r = ins.Op switch { PtxOp.And => a & b, PtxOp.Or => a | b, PtxOp.Xor => a ^ b, _ => ~a };
                Set(o[0], t, ins.Type switch { PtxType.Pred => r & 1, PtxType.B32 => r & 0xFFFF_FFFF, _ => r }, ins);
                break;
            }
            case PtxOp.Shl or PtxOp.Shr: Shift(ins, t); break;
            case PtxOp.Bfe:
            {
                uint a = U32(o[1], t, ins), pos = U32(o[2], t, ins) & 0xFF, len = U32(o[3], t, ins) & 0xFF;
                // the ISA's definition: bits past 31 read as the sign bit (s32) or 0 (u32)
                uint sbit = ins.Type == PtxType.S32 && len > 0 ? (a >> (int)Math.Min(pos + len - 1, 31)) & 1 : 0;
                uint d = 0;
                for (int i = 0; i < 32; i++)
                {
                    uint bit = i < len && pos + i <= 31 ? (a >> (int)(pos + i)) & 1 : sbit;
                    d |= bit << i;
                }
                Set(o[0], t, d, ins);
                break;
            }
            case PtxOp.Brev: Set(o[0], t, ReverseBits(U32(o[1], t, ins)), ins); break;
            case PtxOp.Bfind:
            {
                uint a = U32(o[1], t, ins);
                uint msb = a == 0 ? 0xFFFF_FFFF : (uint)(31 - BitOperations.LeadingZeroCount(a));
                Set(o[0], t, a == 0 ? 0xFFFF_FFFF : ins.ShiftAmt ? 31 - msb : msb, ins);
                break;
            }
            case PtxOp.Setp: Setp(ins, t); break;
            case PtxOp.Selp:
            {
                bool p = Pred(o[3], t, ins);
                var src = p ? o[1] : o[2];
                ulong v = ins.Type switch
                {
                    PtxType.F32 => BitConverter.SingleToUInt32Bits(F32(src, t, ins)),
                    PtxType.F64 => BitConverter.DoubleToUInt64Bits(F64(src, t, ins)),
                    PtxType.B64 or PtxType.U64 or PtxType.S64 => Val(src, t, ins),
                    _ => Val(src, t, ins) & 0xFFFF_FFFF,
                };
                Set(o[0], t, v, ins);
                break;
            }
            case PtxOp.Cvt: Convert(ins, t); break;
            case PtxOp.CvtBf16x2:
                // d = {a → upper half, b → lower half}
                Set(o[0], t, (uint)PtxFloat.ToBf16(F32(o[1], t, ins)) << 16 | PtxFloat.ToBf16(F32(o[2], t, ins)), ins);
                break;
            case PtxOp.Cvta: Set(o[0], t, Val(o[1], t, ins), ins); break;   // generic and global addresses coincide here
            case PtxOp.Ex2: SetF32(o[0], t, PtxFloat.Ex2(F32(o[1], t, ins)), ins); break;
            case PtxOp.Lg2: SetF32(o[0], t, PtxFloat.Lg2(F32(o[1], t, ins)), ins); break;
            case PtxOp.Rcp: SetF32(o[0], t, PtxFloat.Rcp(F32(o[1], t, ins)), ins); break;
            case PtxOp.Ld: Load(ins, t); break;
            case PtxOp.St: Store(ins, t); break;
            default: throw ins.Error($"{ins.Op} has no per-thread implementation");
        }
    }

    private void Move(PtxInstruction ins, int t)
    {
        var (d, s) = (ins.Operands[0], ins.Operands[1]);
        bool wide = ins.Type is PtxType.B64 or PtxType.U64 or PtxType.S64 or PtxType.F64;
        if (d.Kind == OperandKind.Vector || s.Kind == OperandKind.Vector)
        {
            // mov.b64 {lo, hi}, x (unpack) and mov.b64 x, {lo, hi} (pack): the only vector forms emulated
            if (ins.Type != PtxType.B64 || (d.Kind == OperandKind.Vector ? d : s).Elements.Length != 2)
                throw ins.Error("only mov.b64 with a {lo, hi} pair of 32-bit registers is emulated");
            if (d.Kind == OperandKind.Vector)
            {
                ulong x = Val(s, t, ins);
                Set(d.Elements[0], t, x & 0xFFFF_FFFF, ins);
                Set(d.Elements[1], t, x >> 32, ins);
            }
            else Set(d, t, (Val(s.Elements[0], t, ins) & 0xFFFF_FFFF) | (Val(s.Elements[1], t, ins) << 32), ins);
            return;
        }
        ulong v = ins.Type switch
        {
            PtxType.F32 => BitConverter.SingleToUInt32Bits(F32(s, t, ins)),
            PtxType.F64 => BitConverter.DoubleToUInt64Bits(F64(s, t, ins)),
            PtxType.Pred => Val(s, t, ins) & 1,
            _ => wide ? Val(s, t, ins) : Val(s, t, ins) & 0xFFFF_FFFF,
        };
        Set(d, t, v, ins);
    }

    private void FloatOp(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        float a = F32(o[1], t, ins);
        float b = o.Length > 2 ? F32(o[2], t, ins) : 0f;
        float r = ins.Op switch
        {
            PtxOp.Add => a + b,
            PtxOp.Sub => a - b,
            PtxOp.Mul => a * b,
            PtxOp.Fma => MathF.FusedMultiplyAdd(a, b, F32(o[3], t, ins)),
            PtxOp.Neg => -a,
            PtxOp.Min => PtxFloat.Min(a, b),
            PtxOp.Max => PtxFloat.Max(a, b),
            PtxOp.Div => a / b,
            _ => throw ins.Error($"{ins.Op}.f32 is not emulated"),
        };
        SetF32(o[0], t, r, ins);
    }

    private void DoubleOp(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        double a = F64(o[1], t, ins);
        double b = o.Length > 2 ? F64(o[2], t, ins) : 0;
        double r = ins.Op switch
        {
            PtxOp.Add => a + b,
            PtxOp.Sub => a - b,
            PtxOp.Mul => a * b,
            PtxOp.Fma => Math.FusedMultiplyAdd(a, b, F64(o[3], t, ins)),
            PtxOp.Neg => -a,
            PtxOp.Min => PtxFloat.Min(a, b),
            PtxOp.Max => PtxFloat.Max(a, b),
            PtxOp.Div => a / b,
            _ => throw ins.Error($"{ins.Op}.f64 is not emulated"),
        };
        SetF64(o[0], t, r, ins);
    }

    private void IntOp(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        bool signed = ins.Type is PtxType.S32 or PtxType.S64;
        bool wide = ins.Type is PtxType.U64 or PtxType.S64;
        // sources as 64-bit two's complement of their declared width (sign- or zero-extended)
        long Src(int i)
        {
            ulong v = Val(o[i], t, ins);
            return wide ? (long)v : signed ? (int)(uint)v : (long)(uint)v;
        }
        long a = Src(1), b = o.Length > 2 ? Src(2) : 0;
        if (ins.Op == PtxOp.Mul && ins.MulMode == PtxMulMode.Wide)
        {
            Set(o[0], t, (ulong)(a * b), ins);   // 32 x 32 -> 64 bits: exact in a long
            return;
        }
        if (ins.Op is PtxOp.Div or PtxOp.Rem && b == 0) throw ins.Error($"integer division by zero (thread {t} of CTA {_ctaid})");
        ulong r = ins.Op switch
        {
            PtxOp.Add => (ulong)(a + b),
            PtxOp.Sub => (ulong)(a - b),
            PtxOp.Mul => (ulong)(a * b),
            PtxOp.Mad => (ulong)(a * b + Src(3)),
            PtxOp.Neg => (ulong)-a,
            PtxOp.Min => signed ? (ulong)Math.Min(a, b) : Math.Min((ulong)a, (ulong)b),
            PtxOp.Max => signed ? (ulong)Math.Max(a, b) : Math.Max((ulong)a, (ulong)b),
            PtxOp.Div => signed ? (ulong)(a == long.MinValue && b == -1 ? a : a / b) : (ulong)a / (ulong)b,
            PtxOp.Rem => signed ? (ulong)(b == -1 ? 0 : a % b) : (ulong)a % (ulong)b,
            _ => throw ins.Error($"{ins.Op} on integers is not emulated"),
        };
        Set(o[0], t, wide ? r : r & 0xFFFF_FFFF, ins);
    }

    private void Shift(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        int bits = ins.Type is PtxType.B64 or PtxType.U64 or PtxType.S64 ? 64 : 32;
        ulong a = Val(o[1], t, ins);
        uint n = U32(o[2], t, ins);   // the shift amount is always u32; amounts past the width clamp
        ulong r;
        if (ins.Op == PtxOp.Shl) r = n >= bits ? 0 : a << (int)n;
        else if (ins.Type is PtxType.S32) r = (ulong)(uint)((int)(uint)a >> (int)Math.Min(n, 31u));
        else if (ins.Type is PtxType.S64) r = (ulong)((long)a >> (int)Math.Min(n, 63u));
        else r = n >= bits ? 0 : (bits == 32 ? a & 0xFFFF_FFFF : a) >> (int)n;
        Set(o[0], t, bits == 32 ? r & 0xFFFF_FFFF : r, ins);
    }

    private void Setp(PtxInstruction ins, int t)
    {
        var o = ins.Operands;
        bool r;
        switch (ins.Type)
        {
            case PtxType.F32: r = PtxFloat.Compare(ins.Cmp, F32(o[1], t, ins), F32(o[2], t, ins)); break;
            case PtxType.F64: r = PtxFloat.Compare(ins.Cmp, F64(o[1], t, ins), F64(o[2], t, ins)); break;
            case PtxType.S32 or PtxType.S64:
            {
                long a = ins.Type == PtxType.S32 ? (int)U32(o[1], t, ins) : (long)Val(o[1], t, ins);
                long b = ins.Type == PtxType.S32 ? (int)U32(o[2], t, ins) : (long)Val(o[2], t, ins);
                r = Cmp(ins.Cmp, a.CompareTo(b));
                break;
            }
            default:
            {
                bool narrow = ins.Type is PtxType.U32 or PtxType.B32;
                ulong a = narrow ? U32(o[1], t, ins) : Val(o[1], t, ins), b = narrow ? U32(o[2], t, ins) : Val(o[2], t, ins);
                r = Cmp(ins.Cmp, a.CompareTo(b));
                break;
            }
        }
        if (ins.BoolOp != PtxBoolOp.None)
        {
            bool c = Pred(o[3], t, ins);
            r = ins.BoolOp switch { PtxBoolOp.And => r && c, PtxBoolOp.Or => r || c, _ => r ^ c };
        }
        Set(o[0], t, r ? 1UL : 0UL, ins);
    }

    private static bool Cmp(PtxCmp cmp, int c) => cmp switch
    {
        PtxCmp.Eq => c == 0, PtxCmp.Ne => c != 0, PtxCmp.Lt => c < 0, PtxCmp.Le => c <= 0, PtxCmp.Gt => c > 0, _ => c >= 0,
    };

    private void Convert(PtxInstruction ins, int t)
    {
        var (d, s) = (ins.Operands[0], ins.Operands[1]);
        switch (ins.Type, ins.SrcType)
        {
            case (PtxType.F64, PtxType.F32): SetF64(d, t, F32(s, t, ins), ins); break;                 // exact
            case (PtxType.F32, PtxType.F64): SetF32(d, t, (float)F64(s, t, ins), ins); break;          // .rn: C#'s narrowing rounds to nearest even
            default:
            {
                ulong v = Val(s, t, ins);
                long x = ins.SrcType switch { PtxType.S32 => (int)(uint)v, PtxType.U32 => (uint)v, _ => (long)v };
                Set(d, t, ins.Type is PtxType.U64 or PtxType.S64 ? (ulong)x : (ulong)x & 0xFFFF_FFFF, ins);
                break;
            }
        }
    }

    private static uint ReverseBits(uint x)
    {
        uint r = 0;
        for (int i = 0; i < 32; i++) r |= ((x >> i) & 1) << (31 - i);
        return r;
    }
}
