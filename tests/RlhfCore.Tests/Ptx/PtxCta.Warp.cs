namespace RlhfCore.Tests.Ptx;

// Warp-synchronous instructions, executed once per warp (lanes base..base+31, all active: checked by
// the scheduler). Each reads all its sources for the 32 lanes before writing any destination, since a
// destination is often also a source (shfl %x, %x; mma D = C).
public sealed partial class PtxCta
{
    private readonly ulong[] _lanes = new ulong[32];
    private readonly bool[] _lanePred = new bool[32];

    private void ExecuteWarp(PtxInstruction ins, int lane0)
    {
        switch (ins.Op)
        {
            case PtxOp.Shfl: Shuffle(ins, lane0); break;
            case PtxOp.Vote: Ballot(ins, lane0); break;
            case PtxOp.Ldmatrix: LoadMatrix(ins, lane0); break;
            default: MatrixMultiply(ins, lane0); break;
        }
    }

    private void FullMask(PtxOperand m, int lane0, PtxInstruction ins)
    {
        if ((uint)Val(m, lane0, ins) != 0xFFFF_FFFF) throw ins.Error("only a full-warp membermask (0xffffffff) is emulated");
    }

    /// <summary>
    /// shfl.sync.mode.b32 d[|p], a, b, c, membermask with the ISA's lane rule: c packs the clamp (bits 0-4)
    /// and the segment mask (bits 8-12); p is whether the source lane was in range (else d = own a).
    /// </summary>
    private void Shuffle(PtxInstruction ins, int lane0)
    {
        var o = ins.Operands;
        FullMask(o[4], lane0, ins);
        for (int l = 0; l < 32; l++)
        {
            int t = lane0 + l;
            uint b = U32(o[2], t, ins) & 0x1F, c = U32(o[3], t, ins);
            int clamp = (int)(c & 0x1F), seg = (int)((c >> 8) & 0x1F);
            int maxLane = (l & seg) | (clamp & ~seg), minLane = l & seg;
            int j = ins.Shfl switch { PtxShfl.Up => l - (int)b, PtxShfl.Down => l + (int)b, PtxShfl.Bfly => l ^ (int)b, _ => minLane | ((int)b & ~seg) };
            bool ok = ins.Shfl == PtxShfl.Up ? j >= maxLane : j <= maxLane;
            if (!ok) j = l;
            _lanes[l] = U32(o[1], lane0 + j, ins);
            _lanePred[l] = ok;
        }
        var d = o[0];
        for (int l = 0; l < 32; l++)
        {
            if (d.Kind == OperandKind.Pair)
            {
                SetReg(d.Reg, lane0 + l, _lanes[l]);
                SetReg(d.Reg2, lane0 + l, _lanePred[l] ? 1UL : 0UL);
            }
            else Set(d, lane0 + l, _lanes[l], ins);
        }
    }

    /// <summary>vote.sync.ballot.b32 d, p, membermask: bit l of d is lane l's p.</summary>
    private void Ballot(PtxInstruction ins, int lane0)
    {
        var o = ins.Operands;
        FullMask(o[2], lane0, ins);
        uint bits = 0;
        for (int l = 0; l < 32; l++)
            if (Pred(o[1], lane0 + l, ins)) bits |= 1u << l;
        for (int l = 0; l < 32; l++) Set(o[0], lane0 + l, bits, ins);
    }

    /// <summary>
    /// ldmatrix.sync.aligned.m8n8.xN[.trans].shared.b16: lanes 8m..8m+7 give the 16-byte row addresses of
    /// matrix m; lane l receives, in destination register m, elements (l/4, 2(l%4)) and (l/4, 2(l%4)+1) of
    /// matrix m (low half first), or of its transpose with .trans.
    /// </summary>
    private void LoadMatrix(PtxInstruction ins, int lane0)
    {
        var dst = Elements(ins.Operands[0], ins);
        Span<ushort> m = stackalloc ushort[64 * 4];
        for (int mat = 0; mat < ins.Vec; mat++)
            for (int row = 0; row < 8; row++)
            {
                int t = lane0 + mat * 8 + row;
                ulong a = Address(ins.Operands[1], t, ins);
                if (a % 16 != 0) throw ins.Error($"ldmatrix row address 0x{a:x} of lane {mat * 8 + row} is not 16-byte aligned");
                for (int col = 0; col < 8; col++)
                    m[mat * 64 + row * 8 + col] = (ushort)ReadSpace(PtxSpace.Shared, a + (ulong)(2 * col), 2, t, ins);
            }
        for (int l = 0; l < 32; l++)
        {
            int g = l >> 2, c = (l & 3) * 2;
            for (int mat = 0; mat < ins.Vec; mat++)
            {
                int lo = ins.Trans ? c * 8 + g : g * 8 + c, hi = ins.Trans ? (c + 1) * 8 + g : g * 8 + c + 1;
                Set(dst[mat], lane0 + l, m[mat * 64 + lo] | (uint)m[mat * 64 + hi] << 16, ins);
            }
        }
    }

    /// <summary>
    /// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 d, a, b, c with the ISA's fragment
    /// layout (g = lane/4, q = 2(lane%4)): a0..a3 hold A[g][q..q+1], A[g+8][q..q+1], A[g][q+8..q+9],
    /// A[g+8][q+8..q+9]; b0, b1 hold B[q..q+1][g], B[q+8..q+9][g]; c0..c3 / d0..d3 are C[g][q], C[g][q+1],
    /// C[g+8][q], C[g+8][q+1]. The products of 16-bit values are exact; the emulator sums them and C in
    /// double and rounds once to f32 (the tensor core accumulates in at least f32: the difference is
    /// within a few f32 ulps of the sum, far below the bf16 operand rounding the tests allow for).
    /// </summary>
    private void MatrixMultiply(PtxInstruction ins, int lane0)
    {
        var o = ins.Operands;
        PtxOperand[] d = o[0].Elements, a = o[1].Elements, b = o[2].Elements, c = o[3].Elements;
        if (d.Length != 4 || a.Length != 4 || b.Length != 2 || c.Length != 4) throw ins.Error("m16n8k16 takes {4 d}, {4 a}, {2 b}, {4 c} registers");
        var A = new double[16, 16];
        var B = new double[16, 8];
        var C = new double[16, 8];
        for (int l = 0; l < 32; l++)
        {
            int t = lane0 + l, g = l >> 2, q = (l & 3) * 2;
            for (int i = 0; i < 4; i++)
            {
                uint v = U32(a[i], t, ins);
                int row = g + (i & 1) * 8, col = q + (i >> 1) * 8;
                A[row, col] = PtxFloat.FromBf16(v & 0xFFFF);
                A[row, col + 1] = PtxFloat.FromBf16(v >> 16);
            }
            for (int i = 0; i < 2; i++)
            {
                uint v = U32(b[i], t, ins);
                B[q + i * 8, g] = PtxFloat.FromBf16(v & 0xFFFF);
                B[q + i * 8 + 1, g] = PtxFloat.FromBf16(v >> 16);
            }
            for (int i = 0; i < 4; i++)
            {
                var ci = c[i];
                C[g + (i >> 1) * 8, q + (i & 1)] = F32(ci, t, ins);
            }
        }
        for (int l = 0; l < 32; l++)
        {
            int g = l >> 2, q = (l & 3) * 2;
            for (int i = 0; i < 4; i++)
            {
                int row = g + (i >> 1) * 8, col = q + (i & 1);
                double s = C[row, col];
                for (int k = 0; k < 16; k++) s += A[row, k] * B[k, col];
                SetF32(d[i], lane0 + l, (float)s, ins);
            }
        }
    }
}
