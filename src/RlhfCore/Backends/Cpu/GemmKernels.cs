using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// The GEMM micro-kernels: an <see cref="Gemm.MR"/>×<see cref="Gemm.NR"/> (8×32) tile of C from a packed
/// A micro-panel (<c>a[k·MR + r]</c>) and a packed B micro-panel (<c>b[k·NR + j]</c>).
/// <para>
/// Every element is summed the same way on every path: a fused multiply-add chain over k from zero,
/// then <c>acc + C</c> (when accumulating) and <c>+ bias</c>. So the Vector512 and Vector256 kernels give
/// bit-identical results, and a tile's numbers do not depend on where it sits or which thread runs it.
/// </para>
/// </summary>
internal static unsafe class GemmKernels
{
    /// <summary>
    /// C[0..MR, 0..NR] = (load ? C : 0) + Σₖ a·b (+ bias[j] when bias is not null), C with row stride ldc.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile(int kc, float* a, float* b, float* c, nint ldc, bool load, float* bias)
    {
        if (Vector512.IsHardwareAccelerated) Tile512(kc, a, b, c, ldc, load, bias);
        else Tile256(kc, a, b, c, ldc, load, bias);
    }

    // 16 zmm accumulators (8 rows × 2 vectors), 2 B loads and 8 broadcasts per k: enough independent
    // FMA chains to cover the FMA latency on both pipes, with loads well under the load-port limit.
    private static void Tile512(int kc, float* a, float* b, float* c, nint ldc, bool load, float* bias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector512<float> c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < kc; k++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += Gemm.MR;
            b += Gemm.NR;
        }
        Vector512<float> bias0 = default, bias1 = default;
        bool hasBias = bias != null;
        if (hasBias) { bias0 = Vector512.Load(bias); bias1 = Vector512.Load(bias + 16); }
        StoreRow512(c, c00, c01, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c10, c11, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c20, c21, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c30, c31, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c40, c41, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c50, c51, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c60, c61, load, hasBias, bias0, bias1); c += ldc;
        StoreRow512(c, c70, c71, load, hasBias, bias0, bias1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow512(float* c, Vector512<float> v0, Vector512<float> v1, bool load, bool hasBias, Vector512<float> bias0, Vector512<float> bias1)
    {
        if (load) { v0 += Vector512.Load(c); v1 += Vector512.Load(c + 16); }
        if (hasBias) { v0 += bias0; v1 += bias1; }
        Vector512.Store(v0, c);
        Vector512.Store(v1, c + 16);
    }

    // Fallback without AVX-512: two rows at a time (8 ymm accumulators fit AVX2's 16 registers),
    // the same per-element FMA chain as Tile512.
    private static void Tile256(int kc, float* a, float* b, float* c, nint ldc, bool load, float* bias)
    {
        for (int r = 0; r < Gemm.MR; r += 2)
        {
            Vector256<float> s00 = default, s01 = default, s02 = default, s03 = default;
            Vector256<float> s10 = default, s11 = default, s12 = default, s13 = default;
            float* pa = a + r, pb = b;
            for (int k = 0; k < kc; k++)
            {
                var b0 = Vector256.Load(pb); var b1 = Vector256.Load(pb + 8);
                var b2 = Vector256.Load(pb + 16); var b3 = Vector256.Load(pb + 24);
                var x = Vector256.Create(pa[0]);
                s00 = Vector256.FusedMultiplyAdd(x, b0, s00); s01 = Vector256.FusedMultiplyAdd(x, b1, s01);
                s02 = Vector256.FusedMultiplyAdd(x, b2, s02); s03 = Vector256.FusedMultiplyAdd(x, b3, s03);
                x = Vector256.Create(pa[1]);
                s10 = Vector256.FusedMultiplyAdd(x, b0, s10); s11 = Vector256.FusedMultiplyAdd(x, b1, s11);
                s12 = Vector256.FusedMultiplyAdd(x, b2, s12); s13 = Vector256.FusedMultiplyAdd(x, b3, s13);
                pa += Gemm.MR;
                pb += Gemm.NR;
            }
            StoreRow256(c + r * ldc, s00, s01, s02, s03, load, bias);
            StoreRow256(c + (r + 1) * ldc, s10, s11, s12, s13, load, bias);
        }
    }

    private static void StoreRow256(float* c, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Vector256<float> v3, bool load, float* bias)
    {
        if (load)
        {
            v0 += Vector256.Load(c); v1 += Vector256.Load(c + 8);
            v2 += Vector256.Load(c + 16); v3 += Vector256.Load(c + 24);
        }
        if (bias != null)
        {
            v0 += Vector256.Load(bias); v1 += Vector256.Load(bias + 8);
            v2 += Vector256.Load(bias + 16); v3 += Vector256.Load(bias + 24);
        }
        Vector256.Store(v0, c); Vector256.Store(v1, c + 8);
        Vector256.Store(v2, c + 16); Vector256.Store(v3, c + 24);
    }

    /// <summary>
    /// A partial tile (rows ≤ MR, cols ≤ NR) at the edge of C: the full kernel runs into a scratch tile,
    /// then only the valid part is merged, with the same additions as <see cref="Tile"/>.
    /// </summary>
    public static void EdgeTile(int kc, float* a, float* b, float* c, nint ldc, int rows, int cols, bool load, float* bias)
    {
        float* tile = stackalloc float[Gemm.MR * Gemm.NR];
        Tile(kc, a, b, tile, Gemm.NR, false, null);
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * Gemm.NR;
            float* dst = c + r * ldc;
            for (int j = 0; j < cols; j++)
            {
                float v = src[j];
                if (load) v += dst[j];
                if (bias != null) v += bias[j];
                dst[j] = v;
            }
        }
    }
}
