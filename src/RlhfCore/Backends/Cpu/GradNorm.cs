using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Global gradient norm and clipping.
//   SumOfSquares: result[0] = Σ x², accumulated in double. The array is cut into fixed chunks (independent
//   of the thread count); each chunk sums its squares in double vector lanes, combined in lane order, and
//   the chunk partials are added in chunk order, so the result is bit-identical for any thread count.
//   Scale: x *= scale, elementwise in place (clipping by the global norm).
// Neither is a gradient kernel: result overwrites, Scale updates x in place.

public sealed unsafe partial class CpuBackend
{
    /// <summary>Elements per sum-of-squares task: 64 Ki, a multiple of every vector width.</summary>
    private const int SumOfSquaresChunk = 1 << 16;

    private Scratch<double> _sumOfSquaresPartials;

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x, long n)
    {
        int chunks = checked((int)Math.Max(1, (n + SumOfSquaresChunk - 1) / SumOfSquaresChunk));
        var job = new SumOfSquaresJob { X = F(x), N = n, Partials = _sumOfSquaresPartials.Get(chunks) };
        if (chunks == 1) job.Execute(0);
        else Pool.For(chunks, ref job);
        double total = 0;
        for (int c = 0; c < chunks; c++) total += job.Partials[c];
        F(result)[0] = (float)total;
    }

    /// <inheritdoc/>
    public void Scale(Tensor x, float scale, long n) =>
        Elementwise.Unary(Pool, new ScaleOp(scale), F(x), F(x), n);

    private struct SumOfSquaresJob : IParallelJob
    {
        public float* X; public long N; public double* Partials;

        public void Execute(int index)
        {
            long start = (long)index * SumOfSquaresChunk;
            Partials[index] = SumSquares(X + start, Math.Min(SumOfSquaresChunk, N - start));
        }

        private static double SumSquares(float* x, long n)
        {
            long i = 0;
            double sum = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<double> lo = Vector512<double>.Zero, hi = Vector512<double>.Zero;
                for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
                {
                    Vector512<float> v = Vector512.Load(x + i);
                    Vector512<double> a = Vector512.WidenLower(v), b = Vector512.WidenUpper(v);
                    lo = Vector512.FusedMultiplyAdd(a, a, lo);
                    hi = Vector512.FusedMultiplyAdd(b, b, hi);
                }
                sum = Vector512.Sum(lo + hi);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
                {
                    Vector256<float> v = Vector256.Load(x + i);
                    Vector256<double> a = Vector256.WidenLower(v), b = Vector256.WidenUpper(v);
                    lo = Vector256.FusedMultiplyAdd(a, a, lo);
                    hi = Vector256.FusedMultiplyAdd(b, b, hi);
                }
                sum = Vector256.Sum(lo + hi);
            }
            for (; i < n; i++) sum += (double)x[i] * x[i];
            return sum;
        }
    }

    /// <summary>x·scale.</summary>
    private readonly struct ScaleOp(float scale) : IUnaryOperator
    {
        private readonly float _scale = scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x) => x * _scale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x) => x * Vector256.Create(_scale);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x) => x * Vector512.Create(_scale);
    }
}
