using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Global gradient norm and clipping.
//   SumOfSquares: result[0] = Σ x², accumulated in double. The array is cut into fixed chunks (independent
//   of the thread count); each chunk sums its squares in double vector lanes, combined in lane order, and
//   the chunk partials are added in chunk order in double, so the result is bit-identical for any thread
//   count.
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

        /// <summary>
        /// Σ x² over one chunk. Each lane first adds 4 squares in float (one FMA chain, relative error ≤ 3
        /// ulp of a positive sum), then accumulates in double: widening every element instead costs
        /// more than the memory traffic, and the float step adds no bias (all terms are positive).
        /// </summary>
        internal static double SumSquares(float* x, long n)
        {
            long i = 0;
            double sum = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                const int W = 16;
                Vector512<double> lo = Vector512<double>.Zero, hi = Vector512<double>.Zero;
                for (; i <= n - 4 * W; i += 4 * W)
                {
                    Vector512<float> v0 = Vector512.Load(x + i), v1 = Vector512.Load(x + i + W), v2 = Vector512.Load(x + i + 2 * W), v3 = Vector512.Load(x + i + 3 * W);
                    Vector512<float> s = Vector512.FusedMultiplyAdd(v3, v3, Vector512.FusedMultiplyAdd(v2, v2, Vector512.FusedMultiplyAdd(v1, v1, v0 * v0)));
                    lo += Vector512.WidenLower(s);
                    hi += Vector512.WidenUpper(s);
                }
                sum = Vector512.Sum(lo + hi);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                const int W = 8;
                Vector256<double> lo = Vector256<double>.Zero, hi = Vector256<double>.Zero;
                for (; i <= n - 4 * W; i += 4 * W)
                {
                    Vector256<float> v0 = Vector256.Load(x + i), v1 = Vector256.Load(x + i + W), v2 = Vector256.Load(x + i + 2 * W), v3 = Vector256.Load(x + i + 3 * W);
                    Vector256<float> s = Vector256.FusedMultiplyAdd(v3, v3, Vector256.FusedMultiplyAdd(v2, v2, Vector256.FusedMultiplyAdd(v1, v1, v0 * v0)));
                    lo += Vector256.WidenLower(s);
                    hi += Vector256.WidenUpper(s);
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
