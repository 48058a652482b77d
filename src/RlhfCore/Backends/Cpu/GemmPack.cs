using System.Runtime.Intrinsics;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Packing for the GEMM: copies a block of A or B (any strides) into the micro-panel layout the
/// micro-kernel streams, padding partial panels with zeros so the kernel never needs a bounds check.
/// A panel is <c>dst[k·MR + r]</c>, a B panel <c>dst[k·NR + j]</c>. Each operand has a fast path for its
/// contiguous direction; a transposing copy reads rows sequentially and writes with a small stride.
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
        for (int j = 0; j < NR; j++)
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
}
