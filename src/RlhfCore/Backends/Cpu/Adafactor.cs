using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Adafactor (Shazeer & Stern 2018, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost"), one step
// on a row-major [R, C] tensor, in the order of Hugging Face's transformers.optimization.Adafactor:
//   g = gradScale·grad
//   factored (2-D):  r[i] = β2·r[i] + (1 − β2)·mean_j(g² + ε1)     c[j] = β2·c[j] + (1 − β2)·mean_i(g² + ε1)
//                    v̂[i, j] = r[i]·c[j] / mean(r)                (the rank-1 reconstruction)
//   unfactored:      v = β2·v + (1 − β2)·(g² + ε1),  v̂ = v
//   u = g / √v̂;  u /= max(1, RMS(u) / d)                          (update clipping, d = clipThreshold)
//   α = lr · (scaleParameter ? max(ε2, RMS(param)) : 1)            (RMS of the parameter before the step)
//   step = β1 > 0 ? (m = β1·m + (1 − β1)·α·u) : α·u
//   param −= α·weightDecay·param + step                            (decoupled decay)
// Not a gradient kernel: param and the state are updated in place, grad is read only.
// Passes: (1) row means, in parallel over row blocks; (2) column means, in parallel over column blocks, each
// summing its columns over every row in row order (the unfactored case updates v here instead); (3) Σu² and
// Σparam² per fixed chunk of ChunkElements, added in chunk order in double; (4) the update, per chunk. The chunks
// do not depend on the thread count, so results are bit-identical for any thread count. u is recomputed in
// pass 4 rather than stored, so the step needs no tensor-sized scratch (only 1/√c or 1/√v̂ per column).

public sealed unsafe partial class CpuBackend
{
    /// <summary>Columns per task of the column-mean pass.</summary>
    private const int AdafactorColumnBlock = 256;

    private Scratch<float> _adafactorInvSqrt;
    private Scratch<double> _adafactorPartials;

    /// <inheritdoc/>
    public void AdafactorUpdate(Tensor param, Tensor grad, Tensor vRow, Tensor vCol, Tensor m, int rows, int cols, float lr, float beta1, float beta2,
        float eps1, float eps2, float clipThreshold, float weightDecay, float gradScale, bool scaleParameter)
    {
        long n = (long)rows * cols;
        if (n == 0) return;
        bool factored = !vCol.IsNone;
        var job = new AdafactorJob
        {
            P = F(param), G = F(grad), Row = F(vRow), Col = factored ? F(vCol) : null, M = beta1 > 0 ? F(m) : null,
            Rows = rows, Cols = cols, N = n, GradScale = gradScale, Beta1 = beta1, Beta2 = beta2, Eps1 = eps1,
        };
        if (factored)
        {
            job.InvSqrt = _adafactorInvSqrt.Get(cols);
            job.RowsPerTask = Math.Max(1, Elementwise.ChunkElements / cols);
            job.Phase = AdafactorJob.RowMeans;
            Run(ref job, (rows + job.RowsPerTask - 1) / job.RowsPerTask);
            job.Phase = AdafactorJob.ColumnMeans;
            Run(ref job, (cols + AdafactorColumnBlock - 1) / AdafactorColumnBlock);
            double rowSum = 0;
            for (int i = 0; i < rows; i++) rowSum += job.Row[i];
            job.RowMean = (float)(rowSum / rows);
        }
        else
        {
            job.InvSqrt = _adafactorInvSqrt.Get(n);
            job.Phase = AdafactorJob.Unfactored;
            Run(ref job, Elementwise.ChunkCount(n));
        }
        int chunks = Elementwise.ChunkCount(n);
        job.Partials = _adafactorPartials.Get(2L * chunks);
        job.Phase = AdafactorJob.Sums;
        Run(ref job, chunks);
        double sumU2 = 0, sumP2 = 0;
        for (int c = 0; c < chunks; c++) { sumU2 += job.Partials[2 * c]; sumP2 += job.Partials[2 * c + 1]; }
        double clip = Math.Max(1.0, Math.Sqrt(sumU2 / n) / clipThreshold);
        double alpha = lr * (scaleParameter ? Math.Max(eps2, Math.Sqrt(sumP2 / n)) : 1.0);
        job.Alpha = (float)alpha;
        job.UScale = (float)(1.0 / clip);
        job.Decay = (float)(1.0 - alpha * weightDecay);
        job.Phase = AdafactorJob.Apply;
        Run(ref job, chunks);
    }

    private void Run(ref AdafactorJob job, int tasks)
    {
        if (tasks == 1) job.Execute(0);
        else Pool.For(tasks, ref job);
    }

    /// <summary>The four passes of one Adafactor step; <see cref="Phase"/> says which one a task runs.</summary>
    private struct AdafactorJob : IParallelJob
    {
        public const int RowMeans = 0, ColumnMeans = 1, Unfactored = 2, Sums = 3, Apply = 4;
        public int Phase;
        public float* P, G, Row, Col, M, InvSqrt;
        public double* Partials;
        public int Rows, Cols, RowsPerTask;
        public long N;
        public float GradScale, Beta1, Beta2, Eps1, RowMean, Alpha, UScale, Decay;

        public void Execute(int index)
        {
            switch (Phase)
            {
                case RowMeans: RowMeansTask(index); break;
                case ColumnMeans: ColumnMeansTask(index); break;
                case Unfactored: UnfactoredTask(index); break;
                case Sums: SumsTask(index); break;
                default: ApplyTask(index); break;
            }
        }

        private readonly void RowMeansTask(int index)
        {
            int r0 = index * RowsPerTask, r1 = Math.Min(Rows, r0 + RowsPerTask);
            double s2 = (double)GradScale * GradScale;
            for (int i = r0; i < r1; i++)
            {
                double mean = s2 * TensorPrimitives.SumOfSquares(new ReadOnlySpan<float>(G + (long)i * Cols, Cols)) / Cols + Eps1;
                Row[i] = (float)(Beta2 * (double)Row[i] + (1 - (double)Beta2) * mean);
            }
        }

        private readonly void ColumnMeansTask(int index)
        {
            int j0 = index * AdafactorColumnBlock, width = Math.Min(AdafactorColumnBlock, Cols - j0);
            float* acc = stackalloc float[AdafactorColumnBlock];
            var sums = new Span<float>(acc, width);
            sums.Clear();
            for (int i = 0; i < Rows; i++)
            {
                var g = new ReadOnlySpan<float>(G + (long)i * Cols + j0, width);
                TensorPrimitives.MultiplyAdd(g, g, sums, sums);
            }
            double s2 = (double)GradScale * GradScale;
            for (int j = 0; j < width; j++)
            {
                double mean = s2 * acc[j] / Rows + Eps1;
                float c = (float)(Beta2 * (double)Col[j0 + j] + (1 - (double)Beta2) * mean);
                Col[j0 + j] = c;
                InvSqrt[j0 + j] = 1f / MathF.Sqrt(c);
            }
        }

        private readonly void UnfactoredTask(int index)
        {
            long start = (long)index * Elementwise.ChunkElements, end = Math.Min(N, start + Elementwise.ChunkElements);
            float oneMinusBeta2 = 1f - Beta2;
            for (long k = start; k < end; k++)
            {
                float g = GradScale * G[k];
                float v = MathF.FusedMultiplyAdd(Beta2, Row[k], oneMinusBeta2 * MathF.FusedMultiplyAdd(g, g, Eps1));
                Row[k] = v;
                InvSqrt[k] = 1f / MathF.Sqrt(v);
            }
        }

        /// <summary>The factor of row <paramref name="i"/>: gradScale·√(mean(r)/r[i]) when factored, gradScale otherwise.</summary>
        private readonly float RowFactor(long i) => Col == null ? GradScale : GradScale * MathF.Sqrt(RowMean / Row[i]);

        /// <summary>Calls <paramref name="body"/> for each piece of this chunk that lies in one row: (flat start, column start, length, row).</summary>
        private readonly void ForEachRowPiece<TBody>(int index, ref TBody body) where TBody : struct, IRowPiece
        {
            long start = (long)index * Elementwise.ChunkElements, end = Math.Min(N, start + Elementwise.ChunkElements);
            long rowLength = Col == null ? N : Cols;
            while (start < end)
            {
                long row = start / rowLength, col = start - row * rowLength;
                int len = (int)Math.Min(end - start, rowLength - col);
                body.Run(start, Col == null ? start : col, len, RowFactor(row));
                start += len;
            }
        }

        private readonly void SumsTask(int index)
        {
            var body = new SumsPiece { Job = this };
            ForEachRowPiece(index, ref body);
            Partials[2 * index] = body.SumU2;
            Partials[2 * index + 1] = body.SumP2;
        }

        private readonly void ApplyTask(int index)
        {
            var body = new ApplyPiece { Job = this };
            ForEachRowPiece(index, ref body);
        }
    }

    /// <summary>Work on one piece of a row: <c>len</c> elements from flat index <c>at</c>, whose 1/√ factors start at <c>inv</c>.</summary>
    private interface IRowPiece
    {
        void Run(long at, long inv, int len, float rowFactor);
    }

    /// <summary>Σu² and Σparam² over the pieces it is given, in double.</summary>
    private struct SumsPiece : IRowPiece
    {
        public AdafactorJob Job;
        public double SumU2, SumP2;

        public void Run(long at, long inv, int len, float rowFactor)
        {
            float* g = Job.G + at, s = Job.InvSqrt + inv;
            int j = 0;
            double u2 = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<float>.Zero;
                for (; j <= len - 16; j += 16)
                {
                    var u = Vector512.Load(g + j) * Vector512.Load(s + j);
                    acc = Vector512.FusedMultiplyAdd(u, u, acc);
                }
                u2 = Vector512.Sum(Vector512.WidenLower(acc) + Vector512.WidenUpper(acc));
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<float>.Zero;
                for (; j <= len - 8; j += 8)
                {
                    var u = Vector256.Load(g + j) * Vector256.Load(s + j);
                    acc = Vector256.FusedMultiplyAdd(u, u, acc);
                }
                u2 = Vector256.Sum(Vector256.WidenLower(acc) + Vector256.WidenUpper(acc));
            }
            for (; j < len; j++) { double u = (double)g[j] * s[j]; u2 += u * u; }
            SumU2 += u2 * rowFactor * rowFactor;
            SumP2 += TensorPrimitives.SumOfSquares(new ReadOnlySpan<float>(Job.P + at, len));
        }
    }

    /// <summary>The parameter (and first-moment) update over the pieces it is given.</summary>
    private struct ApplyPiece : IRowPiece
    {
        public AdafactorJob Job;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Run(long at, long inv, int len, float rowFactor)
        {
            float* p = Job.P + at, g = Job.G + at, s = Job.InvSqrt + inv, m = Job.M == null ? null : Job.M + at;
            float k = rowFactor * Job.UScale * Job.Alpha, decay = Job.Decay, b1 = Job.Beta1, omb1 = 1f - Job.Beta1;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                for (; j <= len - 16; j += 16)
                {
                    var step = Vector512.Create(k) * Vector512.Load(g + j) * Vector512.Load(s + j);
                    if (m != null)
                    {
                        step = Vector512.FusedMultiplyAdd(Vector512.Create(b1), Vector512.Load(m + j), Vector512.Create(omb1) * step);
                        Vector512.Store(step, m + j);
                    }
                    Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Create(decay), Vector512.Load(p + j), -step), p + j);
                }
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                for (; j <= len - 8; j += 8)
                {
                    var step = Vector256.Create(k) * Vector256.Load(g + j) * Vector256.Load(s + j);
                    if (m != null)
                    {
                        step = Vector256.FusedMultiplyAdd(Vector256.Create(b1), Vector256.Load(m + j), Vector256.Create(omb1) * step);
                        Vector256.Store(step, m + j);
                    }
                    Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Create(decay), Vector256.Load(p + j), -step), p + j);
                }
            }
            for (; j < len; j++)
            {
                float step = k * g[j] * s[j];
                if (m != null)
                {
                    step = MathF.FusedMultiplyAdd(b1, m[j], omb1 * step);
                    m[j] = step;
                }
                p[j] = MathF.FusedMultiplyAdd(decay, p[j], -step);
            }
        }
    }
}
