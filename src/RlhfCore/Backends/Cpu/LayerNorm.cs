using System.Numerics;
using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// LayerNorm over the last dimension (C), eps 1e-5, as llm.c:
//   forward   μ = mean(x),  σ² = mean((x − μ)²),  rstd = 1/√(σ² + eps),  x̂ = (x − μ)·rstd
//             out = x̂·weight + bias;  saves μ (mean) and rstd for backward
//   backward  dx̂ = weight·dout
//             dinp   += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))   ACCUMULATES (residual stream)
//             dweight += Σₙ x̂·dout                             ACCUMULATES (parameter)
//             dbias   += Σₙ dout                               ACCUMULATES (parameter)
// Rows are independent and split over the pool in fixed chunks of rows. dweight and dbias sum over rows:
// each chunk sums its rows into its own partial buffer (preallocated scratch), then the partials are added
// in chunk order, so results are bit-identical for any thread count.
// The row loops use Vector<float> (the hardware's preferred width) so one code path serves AVX-512, AVX2
// and NEON; these loops run over C ≈ 10³ floats per row and are limited by memory, not by vector width.

public sealed unsafe partial class CpuBackend
{
    private const float LayerNormEps = 1e-5f;

    private Scratch<float> _layerNormPartials;

    /// <inheritdoc/>
    public void LayerNormForward(Tensor output, Tensor mean, Tensor rstd, Tensor inp, Tensor weight, Tensor bias, int N, int C)
    {
        int rowsPerTask = LayerNormRowsPerTask(C);
        var job = new LayerNormForwardJob
        {
            Output = F(output), Mean = F(mean), Rstd = F(rstd), Input = F(inp), Weight = F(weight), Bias = F(bias),
            N = N, C = C, RowsPerTask = rowsPerTask,
        };
        Pool.For((N + rowsPerTask - 1) / rowsPerTask, ref job);
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, Tensor mean, Tensor rstd, int N, int C)
    {
        int rowsPerTask = LayerNormRowsPerTask(C);
        int chunks = (N + rowsPerTask - 1) / rowsPerTask;
        var job = new LayerNormBackwardJob
        {
            Dinp = F(dinp), Dout = F(dout), Input = F(inp), Weight = F(weight), Mean = F(mean), Rstd = F(rstd),
            Partials = _layerNormPartials.Get(2L * chunks * C), N = N, C = C, RowsPerTask = rowsPerTask,
        };
        Pool.For(chunks, ref job);
        var dw = new Span<float>(F(dweight), C);
        var db = new Span<float>(F(dbias), C);
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            float* partial = job.Partials + 2L * chunk * C;
            TensorPrimitives.Add(dw, new ReadOnlySpan<float>(partial, C), dw);
            TensorPrimitives.Add(db, new ReadOnlySpan<float>(partial + C, C), db);
        }
    }

    /// <summary>Rows per task: about <see cref="ParallelMinElements"/> floats of work each. Depends on C only.</summary>
    private static int LayerNormRowsPerTask(int C) => Math.Max(1, ParallelMinElements / Math.Max(C, 1));

    private struct LayerNormForwardJob : IParallelJob
    {
        public float* Output; public float* Mean; public float* Rstd; public float* Input; public float* Weight; public float* Bias;
        public int N; public int C; public int RowsPerTask;

        public void Execute(int task)
        {
            int end = Math.Min(N, (task + 1) * RowsPerTask);
            for (int n = task * RowsPerTask; n < end; n++)
            {
                float* x = Input + (long)n * C, o = Output + (long)n * C;
                int W = Vector<float>.Count, i;

                var acc = Vector<float>.Zero;
                for (i = 0; i <= C - W; i += W) acc += Vector.Load(x + i);
                float sum = Vector.Sum(acc);
                for (; i < C; i++) sum += x[i];
                float mu = sum / C;

                var vmu = new Vector<float>(mu);
                acc = Vector<float>.Zero;
                for (i = 0; i <= C - W; i += W) { var d = Vector.Load(x + i) - vmu; acc = Vector.FusedMultiplyAdd(d, d, acc); }
                float sq = Vector.Sum(acc);
                for (; i < C; i++) { float d = x[i] - mu; sq += d * d; }
                float rs = 1f / MathF.Sqrt(sq / C + LayerNormEps);

                var vrs = new Vector<float>(rs);
                for (i = 0; i <= C - W; i += W)
                    Vector.Store(Vector.FusedMultiplyAdd((Vector.Load(x + i) - vmu) * vrs, Vector.Load(Weight + i), Vector.Load(Bias + i)), o + i);
                for (; i < C; i++) o[i] = MathF.FusedMultiplyAdd((x[i] - mu) * rs, Weight[i], Bias[i]);
                Mean[n] = mu;
                Rstd[n] = rs;
            }
        }
    }

    /// <summary>Task t handles rows [t·RowsPerTask, (t+1)·RowsPerTask) and writes partial dweight, dbias for them.</summary>
    private struct LayerNormBackwardJob : IParallelJob
    {
        public float* Dinp; public float* Dout; public float* Input; public float* Weight; public float* Mean; public float* Rstd;
        public float* Partials; public int N; public int C; public int RowsPerTask;

        public void Execute(int task)
        {
            float* pw = Partials + 2L * task * C, pb = pw + C;
            new Span<float>(pw, 2 * C).Clear();
            int end = Math.Min(N, (task + 1) * RowsPerTask);
            for (int n = task * RowsPerTask; n < end; n++)
            {
                float* x = Input + (long)n * C, dout = Dout + (long)n * C, dinp = Dinp + (long)n * C;
                float mu = Mean[n], rs = Rstd[n];
                var vmu = new Vector<float>(mu);
                var vrs = new Vector<float>(rs);
                int W = Vector<float>.Count, i;

                // mean(dx̂) and mean(dx̂·x̂) over the row
                Vector<float> accDn = Vector<float>.Zero, accDnNorm = Vector<float>.Zero;
                for (i = 0; i <= C - W; i += W)
                {
                    var norm = (Vector.Load(x + i) - vmu) * vrs;
                    var dn = Vector.Load(Weight + i) * Vector.Load(dout + i);
                    accDn += dn;
                    accDnNorm = Vector.FusedMultiplyAdd(dn, norm, accDnNorm);
                }
                float dnMean = Vector.Sum(accDn), dnNormMean = Vector.Sum(accDnNorm);
                for (; i < C; i++)
                {
                    float norm = (x[i] - mu) * rs, dn = Weight[i] * dout[i];
                    dnMean += dn;
                    dnNormMean += dn * norm;
                }
                dnMean /= C;
                dnNormMean /= C;

                var vdnMean = new Vector<float>(dnMean);
                var vdnNormMean = new Vector<float>(dnNormMean);
                for (i = 0; i <= C - W; i += W)
                {
                    var norm = (Vector.Load(x + i) - vmu) * vrs;
                    var d = Vector.Load(dout + i);
                    Vector.Store(Vector.Load(pb + i) + d, pb + i);
                    Vector.Store(Vector.FusedMultiplyAdd(norm, d, Vector.Load(pw + i)), pw + i);
                    var dval = (Vector.Load(Weight + i) * d - vdnMean - norm * vdnNormMean) * vrs;
                    Vector.Store(Vector.Load(dinp + i) + dval, dinp + i);
                }
                for (; i < C; i++)
                {
                    float norm = (x[i] - mu) * rs, d = dout[i];
                    pb[i] += d;
                    pw[i] = MathF.FusedMultiplyAdd(norm, d, pw[i]);
                    dinp[i] += (Weight[i] * d - dnMean - norm * dnNormMean) * rs;
                }
            }
        }
    }
}
