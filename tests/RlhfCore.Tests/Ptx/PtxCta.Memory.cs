using System.Buffers.Binary;

namespace RlhfCore.Tests.Ptx;

// ld/st over the .param block, the CTA's shared memory and global memory. Every access is bounds- and
// alignment-checked (a vector access must be aligned to its whole size, as on the device).
public sealed partial class PtxCta
{
    private static int Size(PtxType t) => t is PtxType.B64 or PtxType.U64 or PtxType.S64 or PtxType.F64 ? 8 : t == PtxType.B16 ? 2 : 4;

    /// <summary>The byte address of an Address operand (param-block offset for .param).</summary>
    private ulong Address(PtxOperand a, int t, PtxInstruction ins)
    {
        if (a.Kind != OperandKind.Address) throw ins.Error("expected an address operand [..]");
        if (a.IsParam) return (ulong)a.Offset;
        ulong b = a.Base == null ? (ulong)a.SymbolAddress : Val(a.Base, t, ins);
        return b + (ulong)a.Offset;
    }

    private PtxOperand[] Elements(PtxOperand o, PtxInstruction ins)
    {
        var e = o.Kind == OperandKind.Vector ? o.Elements : [o];
        if (e.Length != ins.Vec) throw ins.Error($"expected {ins.Vec} register(s) for .v{ins.Vec}, found {e.Length}");
        return e;
    }

    private ulong ReadSpace(PtxSpace space, ulong addr, int size, int t, PtxInstruction ins)
    {
        switch (space)
        {
            case PtxSpace.Param:
                if (addr + (ulong)size > (ulong)_param.Length) throw ins.Error($"ld.param at offset {addr} past the {_param.Length}-byte parameter block");
                return Little(_param.AsSpan((int)addr), size);
            case PtxSpace.Shared:
                if (addr + (ulong)size > (ulong)_smem.Length) throw ins.Error($"shared access at 0x{addr:x} past the {_smem.Length} bytes of shared memory (thread {t} of CTA {_ctaid})");
                return Little(_smem.AsSpan((int)addr), size);
            default:
                if (!_mem.TryRead(addr, size, out ulong v)) throw ins.Error($"global load of {size} bytes at 0x{addr:x} is outside every allocation (thread {t} of CTA {_ctaid})");
                return v;
        }
    }

    private void WriteSpace(PtxSpace space, ulong addr, int size, ulong v, int t, PtxInstruction ins)
    {
        if (space == PtxSpace.Shared)
        {
            if (addr + (ulong)size > (ulong)_smem.Length) throw ins.Error($"shared access at 0x{addr:x} past the {_smem.Length} bytes of shared memory (thread {t} of CTA {_ctaid})");
            var s = _smem.AsSpan((int)addr);
            if (size == 8) BinaryPrimitives.WriteUInt64LittleEndian(s, v);
            else if (size == 4) BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)v);
            else BinaryPrimitives.WriteUInt16LittleEndian(s, (ushort)v);
        }
        else if (!_mem.TryWrite(addr, size, v))
            throw ins.Error($"global store of {size} bytes at 0x{addr:x} is outside every allocation (thread {t} of CTA {_ctaid})");
    }

    private static ulong Little(ReadOnlySpan<byte> s, int size) => size switch
    {
        8 => BinaryPrimitives.ReadUInt64LittleEndian(s),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(s),
        _ => BinaryPrimitives.ReadUInt16LittleEndian(s),
    };

    private void Load(PtxInstruction ins, int t)
    {
        var dst = Elements(ins.Operands[0], ins);
        int size = Size(ins.Type);
        ulong addr = Address(ins.Operands[1], t, ins);
        if (addr % (ulong)(size * ins.Vec) != 0) throw ins.Error($"misaligned {size * ins.Vec}-byte load at 0x{addr:x} (thread {t} of CTA {_ctaid})");
        // read every element before writing any register (a destination may also be the address base)
        Span<ulong> v = stackalloc ulong[ins.Vec];
        for (int e = 0; e < ins.Vec; e++) v[e] = ReadSpace(ins.Space, addr + (ulong)(e * size), size, t, ins);
        for (int e = 0; e < ins.Vec; e++) Set(dst[e], t, v[e], ins);
    }

    private void Store(PtxInstruction ins, int t)
    {
        var src = Elements(ins.Operands[1], ins);
        int size = Size(ins.Type);
        ulong addr = Address(ins.Operands[0], t, ins);
        if (addr % (ulong)(size * ins.Vec) != 0) throw ins.Error($"misaligned {size * ins.Vec}-byte store at 0x{addr:x} (thread {t} of CTA {_ctaid})");
        for (int e = 0; e < ins.Vec; e++)
        {
            ulong v = ins.Type == PtxType.F32 ? BitConverter.SingleToUInt32Bits(F32(src[e], t, ins))
                : ins.Type == PtxType.F64 ? BitConverter.DoubleToUInt64Bits(F64(src[e], t, ins)) : Val(src[e], t, ins);
            WriteSpace(ins.Space, addr + (ulong)(e * size), size, v, t, ins);
        }
    }
}
