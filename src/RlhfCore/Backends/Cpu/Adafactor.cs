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
//
// Two passes over the tensor, so the step reads the gradient twice and the parameter once (plus once more for
// RMS(param) when scaleParameter is on), against AdamW's four reads and three writes:
// (1) the moments, per fixed block of whole rows (64 Ki elements, so the block stays in L2): the block is read from
//     memory once for its row sums (so each r[i] is final), then again from L2, four rows at a time, to add g² and
//     g²/r[i] to the block's column sums S and W. Since u² = g²·mean(r)/(r[i]·c[j]), Σu² = mean(r)·Σ_j W[j]/c[j], so
//     the clipping needs no pass of its own. Blocks keep their own column partials (float within a block); the host
//     adds them in block order in double and finishes c, 1/√c and Σu² per column. Unfactored, pass 1 updates v per
//     fixed chunk, keeps 1/√v and adds the chunk's Σu² in its partial.
// (2) the update, per fixed chunk of ChunkElements: u is recomputed from g, 1/√c[j] and the row's √(mean(r)/r[i]).
// Blocks, chunks and every summation order depend only on the shape, never on the thread count or on addresses,
// so the results are bit-identical for any thread count and on resume.

public sealed unsafe partial class CpuBackend
{
    /// <summary>Elements per row block of the factored moment pass (whole rows, at least one): 64 Ki.</summary>
    private const int AdafactorBlockElements = 1 << 16;

    /// <summary>Row blocks the factored moment pass makes at least (when the matrix has that many rows).</summary>
    private const int MinAdafactorBlocks = 8;

    private Scratch<float> _adafactorInvSqrt;
    private Scratch<float> _adafactorColumnPartials;
    private Scratch<double> _adafactorColumnTotals;
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
            Rows = rows, Cols = cols, N = n, GradScale = gradScale, Beta1 = beta1, Beta2 = beta2, Eps1 = eps1, ScaleParameter = scaleParameter,
        };
        int tasks;
        double sumU2 = 0, sumP2 = 0;
        if (factored)
        {
            // At most a block's worth of whole rows, and at least MinAdafactorBlocks blocks where there are rows enough, so a
            // small matrix (one block) still splits across threads. Both depend on the shape only, never on the thread count.
            job.RowsPerTask = Math.Max(1, Math.Min(AdafactorBlockElements / cols, (rows + MinAdafactorBlocks - 1) / MinAdafactorBlocks));
            tasks = (rows + job.RowsPerTask - 1) / job.RowsPerTask;
            job.InvSqrt = _adafactorInvSqrt.Get(cols);
            job.ColumnPartials = _adafactorColumnPartials.Get(2L * tasks * cols);
            job.Partials = _adafactorPartials.Get(2L * tasks);
            job.Phase = AdafactorJob.Moments;
            Run(ref job, tasks);
            sumU2 = FinishColumns(ref job, tasks);
        }
        else
        {
            tasks = Elementwise.ChunkCount(n);
            job.InvSqrt = _adafactorInvSqrt.Get(n);
            job.Partials = _adafactorPartials.Get(2L * tasks);
            job.Phase = AdafactorJob.Unfactored;
            Run(ref job, tasks);
            for (int t = 0; t < tasks; t++) sumU2 += job.Partials[2 * t];
        }
        if (scaleParameter)
            for (int t = 0; t < tasks; t++) sumP2 += job.Partials[2 * t + 1];
        double clip = Math.Max(1.0, Math.Sqrt(sumU2 / n) / clipThreshold);
        double alpha = lr * (scaleParameter ? Math.Max(eps2, Math.Sqrt(sumP2 / n)) : 1.0);
        job.Alpha = (float)alpha;
        job.UScale = (float)(1.0 / clip);
        job.Decay = (float)(1.0 - alpha * weightDecay);
        job.Phase = AdafactorJob.Apply;
        Run(ref job, Elementwise.ChunkCount(n));
    }

    private void Run(ref AdafactorJob job, int tasks)
    {
        if (tasks == 1) job.Execute(0);
        else Pool.For(tasks, ref job);
    }

    /// <summary>
    /// After the moment pass: mean(r); the blocks' column partials added in block order in double; c, 1/√c and
    /// Σ_j W[j]/c[j] per column. Returns Σu² = gradScale²·mean(r)·Σ_j W[j]/c[j] (W holds Σ_i grad²/r[i]).
    /// </summary>
    private double FinishColumns(ref AdafactorJob job, int tasks)
    {
        int cols = job.Cols;
        double* totals = _adafactorColumnTotals.Get(2L * cols);
        new Span<double>(totals, 2 * cols).Clear();
        for (int t = 0; t < tasks; t++) AddWidened(job.ColumnPartials + (long)t * 2 * cols, totals, 2 * cols);
        double rowSum = 0;
        for (int i = 0; i < job.Rows; i++) rowSum += job.Row[i];
        job.RowMean = (float)(rowSum / job.Rows);
        double s2 = (double)job.GradScale * job.GradScale, beta2 = job.Beta2, sumW = 0;
        for (int j = 0; j < cols; j++)
        {
            float c = (float)(beta2 * job.Col[j] + (1 - beta2) * (s2 * totals[j] / job.Rows + job.Eps1));
            job.Col[j] = c;
            job.InvSqrt[j] = 1f / MathF.Sqrt(c);
            sumW += totals[cols + j] / c;
        }
        return s2 * job.RowMean * sumW;
    }

    /// <summary>totals[k] += x[k] in double for k in [0, n).</summary>
    private static void AddWidened(float* x, double* totals, int n)
    {
        int k = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; k <= n - 16; k += 16)
            {
                var v = Vector512.Load(x + k);
                Vector512.Store(Vector512.Load(totals + k) + Vector512.WidenLower(v), totals + k);
                Vector512.Store(Vector512.Load(totals + k + 8) + Vector512.WidenUpper(v), totals + k + 8);
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; k <= n - 8; k += 8)
            {
                var v = Vector256.Load(x + k);
                Vector256.Store(Vector256.Load(totals + k) + Vector256.WidenLower(v), totals + k);
                Vector256.Store(Vector256.Load(totals + k + 4) + Vector256.WidenUpper(v), totals + k + 4);
            }
        for (; k < n; k++) totals[k] += x[k];
    }

    /// <summary>The passes of one Adafactor step; <see cref="Phase"/> says which one a task runs.</summary>
    private struct AdafactorJob : IParallelJob
    {
        public const int Moments = 0, Unfactored = 1, Apply = 2;
        public int Phase;
        public float* P, G, Row, Col, M, InvSqrt, ColumnPartials;
        public double* Partials;
        public int Rows, Cols, RowsPerTask;
        public long N;
        public float GradScale, Beta1, Beta2, Eps1, RowMean, Alpha, UScale, Decay;
        public bool ScaleParameter;

        public void Execute(int index)
        {
            switch (Phase)
            {
                case Moments: MomentsTask(index); break;
                case Unfactored: UnfactoredTask(index); break;
                default: ApplyTask(index); break;
            }
        }

        /// <summary>
        /// Rows [index·RowsPerTask, …) of the factored moments: r[i] for each row, and the block's column partials
        /// Σ_i grad² (first <see cref="Cols"/> floats) and Σ_i grad²/r[i] (next <see cref="Cols"/>); Σparam² when asked.
        /// </summary>
        private readonly void MomentsTask(int index)
        {
            int r0 = index * RowsPerTask, r1 = Math.Min(Rows, r0 + RowsPerTask);
            float* sums = ColumnPartials + (long)index * 2 * Cols, weighted = sums + Cols;
            new Span<float>(sums, 2 * Cols).Clear();
            double s2 = (double)GradScale * GradScale, beta2 = Beta2;
            for (int i = r0; i < r1; i++)
            {
                double mean = s2 * SumOfSquaresJob.SumSquares(G + (long)i * Cols, Cols) / Cols + Eps1;
                Row[i] = (float)(beta2 * Row[i] + (1 - beta2) * mean);
            }
            int k = r0;
            for (; k + 4 <= r1; k += 4) AddColumnSquares4(G + (long)k * Cols, Cols, sums, weighted, 1f / Row[k], 1f / Row[k + 1], 1f / Row[k + 2], 1f / Row[k + 3]);
            for (; k < r1; k++) AddColumnSquares(G + (long)k * Cols, sums, weighted, 1f / Row[k], Cols);
            if (ScaleParameter) Partials[2 * index + 1] = SumOfSquaresJob.SumSquares(P + (long)r0 * Cols, (long)(r1 - r0) * Cols);
        }

        /// <summary>
        /// <see cref="AddColumnSquares"/> for four consecutive rows of length <paramref name="n"/> from <paramref name="g"/>, with
        /// scales s0…s3: the column sums are loaded and stored once per four rows.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddColumnSquares4(float* g, int n, float* sums, float* weighted, float s0, float s1, float s2, float s3)
        {
            float* g1 = g + n, g2 = g1 + n, g3 = g2 + n;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j <= n - 16; j += 16)
                {
                    Vector512<float> x0 = Vector512.Load(g + j), x1 = Vector512.Load(g1 + j), x2 = Vector512.Load(g2 + j), x3 = Vector512.Load(g3 + j);
                    Vector512<float> a = x0 * x0, b = x1 * x1, c = x2 * x2, d = x3 * x3;
                    Vector512.Store(Vector512.Load(sums + j) + ((a + b) + (c + d)), sums + j);
                    var w = Vector512.FusedMultiplyAdd(a, Vector512.Create(s0), Vector512.Load(weighted + j));
                    w = Vector512.FusedMultiplyAdd(b, Vector512.Create(s1), w);
                    w = Vector512.FusedMultiplyAdd(c, Vector512.Create(s2), w);
                    Vector512.Store(Vector512.FusedMultiplyAdd(d, Vector512.Create(s3), w), weighted + j);
                }
            else if (Vector256.IsHardwareAccelerated)
                for (; j <= n - 8; j += 8)
                {
                    Vector256<float> x0 = Vector256.Load(g + j), x1 = Vector256.Load(g1 + j), x2 = Vector256.Load(g2 + j), x3 = Vector256.Load(g3 + j);
                    Vector256<float> a = x0 * x0, b = x1 * x1, c = x2 * x2, d = x3 * x3;
                    Vector256.Store(Vector256.Load(sums + j) + ((a + b) + (c + d)), sums + j);
                    var w = Vector256.FusedMultiplyAdd(a, Vector256.Create(s0), Vector256.Load(weighted + j));
                    w = Vector256.FusedMultiplyAdd(b, Vector256.Create(s1), w);
                    w = Vector256.FusedMultiplyAdd(c, Vector256.Create(s2), w);
                    Vector256.Store(Vector256.FusedMultiplyAdd(d, Vector256.Create(s3), w), weighted + j);
                }
            for (; j < n; j++)
            {
                float a = g[j] * g[j], b = g1[j] * g1[j], c = g2[j] * g2[j], d = g3[j] * g3[j];
                sums[j] += (a + b) + (c + d);
                float w = MathF.FusedMultiplyAdd(a, s0, weighted[j]);
                w = MathF.FusedMultiplyAdd(b, s1, w);
                w = MathF.FusedMultiplyAdd(c, s2, w);
                weighted[j] = MathF.FusedMultiplyAdd(d, s3, w);
            }
        }

        /// <summary>sums[j] += g[j]² and weighted[j] += g[j]²·scale for j in [0, n).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void AddColumnSquares(float* g, float* sums, float* weighted, float scale, int n)
        {
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; j <= n - 16; j += 16)
                {
                    var x = Vector512.Load(g + j);
                    var sq = x * x;
                    Vector512.Store(Vector512.Load(sums + j) + sq, sums + j);
                    Vector512.Store(Vector512.FusedMultiplyAdd(sq, Vector512.Create(scale), Vector512.Load(weighted + j)), weighted + j);
                }
            else if (Vector256.IsHardwareAccelerated)
                for (; j <= n - 8; j += 8)
                {
                    var x = Vector256.Load(g + j);
                    var sq = x * x;
                    Vector256.Store(Vector256.Load(sums + j) + sq, sums + j);
                    Vector256.Store(Vector256.FusedMultiplyAdd(sq, Vector256.Create(scale), Vector256.Load(weighted + j)), weighted + j);
                }
            for (; j < n; j++)
            {
                float sq = g[j] * g[j];
                sums[j] += sq;
                weighted[j] = MathF.FusedMultiplyAdd(sq, scale, weighted[j]);
            }
        }

        /// <summary>
        /// Chunk <paramref name="index"/> of the unfactored moments: v, 1/√v into <see cref="InvSqrt"/>, and the chunk's
        /// Σu² (and Σparam² when asked) into its partials.
        /// </summary>
        private readonly void UnfactoredTask(int index)
        {
            long start = (long)index * Elementwise.ChunkElements;
            int len = (int)Math.Min(Elementwise.ChunkElements, N - start);
            float* grad = G + start, v = Row + start, s = InvSqrt + start;
            float gs = GradScale, b2 = Beta2, omb2 = 1f - Beta2, eps = Eps1;
            int j = 0;
            double u2 = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<float>.Zero;
                for (; j <= len - 16; j += 16)
                {
                    var g = Vector512.Create(gs) * Vector512.Load(grad + j);
                    var vj = Vector512.FusedMultiplyAdd(Vector512.Create(b2), Vector512.Load(v + j), Vector512.Create(omb2) * Vector512.FusedMultiplyAdd(g, g, Vector512.Create(eps)));
                    var sj = Vector512<float>.One / Vector512.Sqrt(vj);
                    Vector512.Store(vj, v + j);
                    Vector512.Store(sj, s + j);
                    var u = g * sj;
                    acc = Vector512.FusedMultiplyAdd(u, u, acc);
                }
                u2 = Vector512.Sum(Vector512.WidenLower(acc) + Vector512.WidenUpper(acc));
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<float>.Zero;
                for (; j <= len - 8; j += 8)
                {
                    var g = Vector256.Create(gs) * Vector256.Load(grad + j);
                    var vj = Vector256.FusedMultiplyAdd(Vector256.Create(b2), Vector256.Load(v + j), Vector256.Create(omb2) * Vector256.FusedMultiplyAdd(g, g, Vector256.Create(eps)));
                    var sj = Vector256<float>.One / Vector256.Sqrt(vj);
                    Vector256.Store(vj, v + j);
                    Vector256.Store(sj, s + j);
                    var u = g * sj;
                    acc = Vector256.FusedMultiplyAdd(u, u, acc);
                }
                u2 = Vector256.Sum(Vector256.WidenLower(acc) + Vector256.WidenUpper(acc));
            }
            for (; j < len; j++)
            {
                float g = gs * grad[j];
                float vj = MathF.FusedMultiplyAdd(b2, v[j], omb2 * MathF.FusedMultiplyAdd(g, g, eps));
                float sj = 1f / MathF.Sqrt(vj);
                v[j] = vj;
                s[j] = sj;
                double u = (double)g * sj;
                u2 += u * u;
            }
            Partials[2 * index] = u2;
            if (ScaleParameter) Partials[2 * index + 1] = SumOfSquaresJob.SumSquares(P + start, len);
        }

        /// <summary>The factor of row <paramref name="i"/>: gradScale·√(mean(r)/r[i]) when factored, gradScale otherwise.</summary>
        private readonly float RowFactor(long i) => Col == null ? GradScale : GradScale * MathF.Sqrt(RowMean / Row[i]);

        /// <summary>The update of chunk <paramref name="index"/>, one piece per row it touches (all of it is one row when unfactored).</summary>
        private readonly void ApplyTask(int index)
        {
            long start = (long)index * Elementwise.ChunkElements, end = Math.Min(N, start + Elementwise.ChunkElements);
            long rowLength = Col == null ? N : Cols;
            while (start < end)
            {
                long row = start / rowLength, col = start - row * rowLength;
                int len = (int)Math.Min(end - start, rowLength - col);
                ApplyPiece(start, Col == null ? start : col, len, RowFactor(row));
                start += len;
            }
        }

        /// <summary>The parameter (and first-moment) update of <c>len</c> elements from flat index <c>at</c>, whose 1/√ factors start at <c>inv</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly void ApplyPiece(long at, long inv, int len, float rowFactor)
        {
            float* p = P + at, g = G + at, s = InvSqrt + inv, m = M == null ? null : M + at;
            float k = rowFactor * UScale * Alpha, decay = Decay, b1 = Beta1, omb1 = 1f - Beta1;
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
