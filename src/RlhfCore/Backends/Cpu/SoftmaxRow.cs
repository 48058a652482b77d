using System.Numerics.Tensors;
using System.Runtime.Intrinsics;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Row primitives shared by the softmax-based kernels (attention, cross-entropy, log-probs, entropy,
/// sampling). Every reduction here has a summation order fixed by the length alone — never by the
/// address, the alignment or the thread — so results are bit-reproducible, and two kernels reducing
/// the same row (full attention and KV-cache decode) get the same bits. TensorPrimitives is used only
/// for elementwise work, where each element's result does not depend on its neighbours.
/// </summary>
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

    /// <summary>y[i] += alpha·x[i] over [0, n) (fused multiply-add, so vector and tail round alike).</summary>
    internal static void Axpy(float* y, float alpha, float* x, int n)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(alpha);
            for (; i <= n - 16; i += 16) Vector512.FusedMultiplyAdd(va, Vector512.Load(x + i), Vector512.Load(y + i)).Store(y + i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(alpha);
            for (; i <= n - 8; i += 8) Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = MathF.FusedMultiplyAdd(alpha, x[i], y[i]);
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
