using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Row primitives shared by the softmax-based kernels (attention, cross-entropy, log-probs, entropy,
/// sampling). Every reduction here has a summation order fixed by the length alone — never by the
/// address, the alignment or the thread — so results are bit-reproducible, and two kernels reducing
/// the same row (full attention and KV-cache decode) get the same bits. TensorPrimitives is used only
/// for elementwise work, where each element's result does not depend on its neighbours.
/// Stack buffers are not zeroed (SkipLocalsInit): every element is written before it is read.
/// </summary>
[SkipLocalsInit]
internal static unsafe class SoftmaxRow
{
    /// <summary>Long rows are processed in chunks of this many elements through a stack buffer.</summary>
    internal const int Chunk = 1024;

    /// <summary>max of x[0..n) (exact, so order does not matter).</summary>
    internal static float Max(float* x, int n) => TensorPrimitives.Max(new ReadOnlySpan<float>(x, n));

    /// <summary>Σ x[0..n) with four vector accumulators, then a scalar tail.</summary>
    internal static float Sum(float* x, int n)
    {
        int i = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 64)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 64; i += 64)
            {
                a0 += Vector512.Load(x + i);
                a1 += Vector512.Load(x + i + 16);
                a2 += Vector512.Load(x + i + 32);
                a3 += Vector512.Load(x + i + 48);
            }
            s = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 32; i += 32)
            {
                a0 += Vector256.Load(x + i);
                a1 += Vector256.Load(x + i + 8);
                a2 += Vector256.Load(x + i + 16);
                a3 += Vector256.Load(x + i + 24);
            }
            s = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) s += x[i];
        return s;
    }

    /// <summary>Σ a[i]·b[i] over [0, n) with one FMA vector accumulator, then a scalar tail.</summary>
    internal static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float s = 0f;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> acc = default;
            for (; i <= n - 16; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc);
            s = Vector512.Sum(acc);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> acc = default;
            for (; i <= n - 8; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            s = Vector256.Sum(acc);
        }
        for (; i < n; i++) s = MathF.FusedMultiplyAdd(a[i], b[i], s);
        return s;
    }

    /// <summary>
    /// o[c] = Σ_s w[s·wStride]·x[s·xStride + c] for c in [0, n), over s in [0, len) with w ≠ 0. Each channel
    /// is its own chain of fused multiply-adds in s order, starting from 0, whether it sits in a vector lane
    /// or the scalar tail; accumulators stay in registers across s (four vectors = 64 channels at a time).
    /// </summary>
    internal static void WeightedRowSum(float* o, float* w, long wStride, float* x, long xStride, int len, int n)
    {
        int c = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; c <= n - 64; c += 64)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int s = 0; s < len; s++)
                {
                    float ws = w[s * wStride];
                    if (ws == 0f) continue;
                    var vw = Vector512.Create(ws);
                    float* xs = x + s * xStride + c;
                    a0 = Vector512.FusedMultiplyAdd(vw, Vector512.Load(xs), a0);
                    a1 = Vector512.FusedMultiplyAdd(vw, Vector512.Load(xs + 16), a1);
                    a2 = Vector512.FusedMultiplyAdd(vw, Vector512.Load(xs + 32), a2);
                    a3 = Vector512.FusedMultiplyAdd(vw, Vector512.Load(xs + 48), a3);
                }
                a0.Store(o + c); a1.Store(o + c + 16); a2.Store(o + c + 32); a3.Store(o + c + 48);
            }
            for (; c <= n - 16; c += 16)
            {
                Vector512<float> a = default;
                for (int s = 0; s < len; s++)
                {
                    float ws = w[s * wStride];
                    if (ws != 0f) a = Vector512.FusedMultiplyAdd(Vector512.Create(ws), Vector512.Load(x + s * xStride + c), a);
                }
                a.Store(o + c);
            }
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            for (; c <= n - 8; c += 8)
            {
                Vector256<float> a = default;
                for (int s = 0; s < len; s++)
                {
                    float ws = w[s * wStride];
                    if (ws != 0f) a = Vector256.FusedMultiplyAdd(Vector256.Create(ws), Vector256.Load(x + s * xStride + c), a);
                }
                a.Store(o + c);
            }
        }
        for (; c < n; c++)
        {
            float a = 0f;
            for (int s = 0; s < len; s++)
            {
                float ws = w[s * wStride];
                if (ws != 0f) a = MathF.FusedMultiplyAdd(ws, x[s * xStride + c], a);
            }
            o[c] = a;
        }
    }

    /// <summary>
    /// Σ exp(x[i] − shift) over [0, n). When <paramref name="dst"/> is not null the exponentials are also
    /// written there (dst may equal x). The sum is taken chunk by chunk whether or not dst is given, so
    /// both forms return the same bits.
    /// </summary>
    internal static float SumExp(float* x, int n, float shift, float* dst)
    {
        float* buf = stackalloc float[Chunk];
        float total = 0f;
        for (int c = 0; c < n; c += Chunk)
        {
            int len = Math.Min(Chunk, n - c);
            float* e = dst != null ? dst + c : buf;
            var span = new Span<float>(e, len);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(x + c, len), shift, span);
            TensorPrimitives.Exp(span, span);
            total += Sum(e, len);
        }
        return total;
    }

    /// <summary>
    /// The two sums entropy needs, with z = x − shift and e = exp(z): returns Σ e and sets
    /// <paramref name="sumEz"/> = Σ e·z.
    /// </summary>
    internal static float SumExpAndEz(float* x, int n, float shift, out float sumEz)
    {
        float* z = stackalloc float[Chunk];
        float* e = stackalloc float[Chunk];
        float total = 0f, ez = 0f;
        for (int c = 0; c < n; c += Chunk)
        {
            int len = Math.Min(Chunk, n - c);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(x + c, len), shift, new Span<float>(z, len));
            TensorPrimitives.Exp(new ReadOnlySpan<float>(z, len), new Span<float>(e, len));
            total += Sum(e, len);
            ez += Dot(e, z, len);
        }
        sumEz = ez;
        return total;
    }
}
