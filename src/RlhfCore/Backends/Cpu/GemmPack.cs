using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Packing for the GEMM: copies a block of A or B (any strides) into the micro-panel layout the
/// micro-kernel streams, padding partial panels with zeros so the kernel never needs a bounds check.
/// A panel is <c>dst[k·MR + r]</c>, a B panel <c>dst[k·NR + j]</c>. Each operand has a fast path for its
/// contiguous direction; the transposing direction (forward's weight, row-major activations) moves
/// 8×8 blocks through registers, since on the LM head it packs the whole 154 MB weight every call.
/// </summary>
internal static unsafe class GemmPack
{
    /// <summary>Packs A[m0 .. m0+rows, k0 .. k0+kc] (element (m, k) at a[m·rs + k·cs]) into one MR panel.</summary>
    public static void PackA(float* dst, float* a, nint rs, nint cs, int m0, int rows, int k0, int kc)
    {
        const int MR = Gemm.MR;
        if (rs == 1)
        {
            // A is column-major here (dweight's doutᵀ): each k is MR contiguous floats.
            float* src = a + m0 + k0 * cs;
            if (rows == MR)
            {
                for (int k = 0; k < kc; k++, src += cs, dst += MR)
                    Vector256.Store(Vector256.Load(src), dst);
                return;
            }
            for (int k = 0; k < kc; k++, src += cs, dst += MR)
            {
                int r = 0;
                for (; r < rows; r++) dst[r] = src[r];
                for (; r < MR; r++) dst[r] = 0f;
            }
            return;
        }
        if (cs == 1 && rows == MR && Avx.IsSupported)
        {
            float* src = a + m0 * rs + k0;
            int k = 0;
            for (; k + 8 <= kc; k += 8) Transpose8x8(src + k, rs, dst + k * MR, MR);
            for (; k < kc; k++)
                for (int r = 0; r < MR; r++) dst[k * MR + r] = src[r * rs + k];
            return;
        }
        for (int r = 0; r < MR; r++)
        {
            float* d = dst + r;
            if (r >= rows)
            {
                for (int k = 0; k < kc; k++) d[k * MR] = 0f;
                continue;
            }
            float* src = a + (m0 + r) * rs + k0 * cs;
            if (cs == 1) for (int k = 0; k < kc; k++) d[k * MR] = src[k];
            else for (int k = 0; k < kc; k++) d[k * MR] = src[k * cs];
        }
    }

    /// <summary>Packs B[k0 .. k0+kc, n0 .. n0+cols] (element (k, n) at b[k·rs + n·cs]) into one NR panel.</summary>
    public static void PackB(float* dst, float* b, nint rs, nint cs, int k0, int kc, int n0, int cols)
    {
        const int NR = Gemm.NR;
        if (cs == 1)
        {
            // B is row-major (dinp's weight, dweight's inp): each k is NR contiguous floats.
            float* src = b + k0 * rs + n0;
            if (cols == NR)
            {
                for (int k = 0; k < kc; k++, src += rs, dst += NR)
                {
                    Vector256.Store(Vector256.Load(src), dst);
                    Vector256.Store(Vector256.Load(src + 8), dst + 8);
                    Vector256.Store(Vector256.Load(src + 16), dst + 16);
                    Vector256.Store(Vector256.Load(src + 24), dst + 24);
                }
                return;
            }
            for (int k = 0; k < kc; k++, src += rs, dst += NR)
            {
                int j = 0;
                for (; j < cols; j++) dst[j] = src[j];
                for (; j < NR; j++) dst[j] = 0f;
            }
            return;
        }
        int done = 0;
        if (rs == 1 && Avx.IsSupported)
        {
            // Whole groups of 8 columns through 8×8 register transposes; the rest below.
            done = cols / 8 * 8;
            int kFull = kc / 8 * 8;
            for (int j = 0; j < done; j += 8)
            {
                float* src = b + k0 + (n0 + j) * cs;
                for (int k = 0; k < kFull; k += 8) Transpose8x8(src + k, cs, dst + k * NR + j, NR);
                for (int k = kFull; k < kc; k++)
                    for (int jj = 0; jj < 8; jj++) dst[k * NR + j + jj] = src[jj * cs + k];
            }
        }
        for (int j = done; j < NR; j++)
        {
            float* d = dst + j;
            if (j >= cols)
            {
                for (int k = 0; k < kc; k++) d[k * NR] = 0f;
                continue;
            }
            float* src = b + k0 * rs + (n0 + j) * cs;
            if (rs == 1) for (int k = 0; k < kc; k++) d[k * NR] = src[k];
            else for (int k = 0; k < kc; k++) d[k * NR] = src[k * rs];
        }
    }

    /// <summary>dst[i·dstStride + r] = src[r·srcStride + i] for an 8×8 block (the classic unpack/shuffle/permute transpose).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint srcStride, float* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src); var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride); var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride); var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride); var r7 = Avx.LoadVector256(src + 7 * srcStride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(u3, u7, 0x31));
    }
}
