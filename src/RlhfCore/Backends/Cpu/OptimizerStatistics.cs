using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Optimizer telemetry of one parameter tensor (the slots of OptimizerStatisticSlots), one pass over param, the
// parameter before the step, grad, and the optional momentum and second moment. With g = gradScale·grad and
// d = previous − param (the step taken):
//   Σg², Σparam², Σprevious², Σd², mean|m|, Σm², Σg·m, fraction(sign(d) = sign(m)), mean v, max v, fraction(v < threshold)
// Not a gradient kernel: stats[0, KernelSlots) is overwritten, nothing else is written.
// Each fixed chunk of ChunkElements sums in float vector lanes (at most 2048 terms per lane), the lanes are added in
// double, and the chunk partials are added in chunk order in double: bit-identical for any thread count.
// The element values come from an IStatisticsSource: stored arrays here (the parameters copied before the step), or
// AdamW's update itself (AdamW.cs), which computes them in the same pass that writes param, m and v. Both run this one
// accumulation, in the same order, so a fused AdamW step records exactly what the separate pass would.

public sealed unsafe partial class CpuBackend
{
    private const int StatisticsPartials = OptimizerStatisticSlots.KernelSlots;

    private Scratch<double> _statisticsPartials;

    /// <inheritdoc/>
    public void OptimizerStatistics(Tensor stats, Tensor param, Tensor previous, Tensor grad, Tensor momentum, Tensor v, long n, float gradScale, float vThreshold)
    {
        var source = new StoredStatistics
        {
            P = F(param), Prev = F(previous), G = F(grad), M = momentum.IsNone ? null : F(momentum), V = v.IsNone ? null : F(v), GradScale = gradScale,
        };
        RunStatistics(source, F(stats), n, vThreshold);
    }

    /// <summary>Where one tensor's statistics get their element values: for elements [k, k + width), g = gradScale·grad, the parameter after and before the step, the momentum and v.</summary>
    private interface IStatisticsSource
    {
        /// <summary>Whether there is a momentum (else m is ignored).</summary>
        bool HasMomentum { get; }
        /// <summary>Whether there is a second moment (else v is ignored).</summary>
        bool HasV { get; }
        /// <summary>One element.</summary>
        void Load(long k, out float g, out float p, out float previous, out float m, out float v);
        /// <summary>8 elements.</summary>
        void Load(long k, out Vector256<float> g, out Vector256<float> p, out Vector256<float> previous, out Vector256<float> m, out Vector256<float> v);
        /// <summary>16 elements.</summary>
        void Load(long k, out Vector512<float> g, out Vector512<float> p, out Vector512<float> previous, out Vector512<float> m, out Vector512<float> v);
    }

    /// <summary>The values as stored arrays (momentum and v may be null).</summary>
    private struct StoredStatistics : IStatisticsSource
    {
        public float* P, Prev, G, M, V;
        public float GradScale;

        public readonly bool HasMomentum => M != null;
        public readonly bool HasV => V != null;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out float g, out float p, out float previous, out float m, out float v)
        {
            g = GradScale * G[k]; p = P[k]; previous = Prev[k];
            m = M != null ? M[k] : 0; v = V != null ? V[k] : 0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out Vector256<float> g, out Vector256<float> p, out Vector256<float> previous, out Vector256<float> m, out Vector256<float> v)
        {
            g = Vector256.Create(GradScale) * Vector256.Load(G + k); p = Vector256.Load(P + k); previous = Vector256.Load(Prev + k);
            m = M != null ? Vector256.Load(M + k) : default; v = V != null ? Vector256.Load(V + k) : default;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out Vector512<float> g, out Vector512<float> p, out Vector512<float> previous, out Vector512<float> m, out Vector512<float> v)
        {
            g = Vector512.Create(GradScale) * Vector512.Load(G + k); p = Vector512.Load(P + k); previous = Vector512.Load(Prev + k);
            m = M != null ? Vector512.Load(M + k) : default; v = V != null ? Vector512.Load(V + k) : default;
        }
    }

    /// <summary>Runs the statistics of n elements from <paramref name="source"/> over the pool and writes the KernelSlots floats at <paramref name="stats"/>.</summary>
    private void RunStatistics<TSource>(TSource source, float* stats, long n, float vThreshold) where TSource : struct, IStatisticsSource
    {
        int chunks = Math.Max(1, Elementwise.ChunkCount(n));
        var job = new StatisticsJob<TSource> { Source = source, N = n, Threshold = vThreshold, Partials = _statisticsPartials.Get((long)chunks * StatisticsPartials) };
        if (chunks == 1) job.Execute(0);
        else Pool.For(chunks, ref job);
        var total = stackalloc double[StatisticsPartials];
        for (int s = 0; s < StatisticsPartials; s++) total[s] = 0;
        for (int c = 0; c < chunks; c++)
        {
            double* part = job.Partials + (long)c * StatisticsPartials;
            for (int s = 0; s < StatisticsPartials; s++)
                total[s] = s == OptimizerStatisticSlots.VMax ? (c == 0 ? part[s] : Math.Max(total[s], part[s])) : total[s] + part[s];
        }
        double count = Math.Max(1, n);
        for (int s = 0; s < StatisticsPartials; s++)
        {
            bool mean = s is OptimizerStatisticSlots.MomentumAbsMean or OptimizerStatisticSlots.SignAgreement or OptimizerStatisticSlots.VMean or OptimizerStatisticSlots.VBelow;
            stats[s] = (float)(mean ? total[s] / count : total[s]);
        }
    }

    private struct StatisticsJob<TSource> : IParallelJob where TSource : struct, IStatisticsSource
    {
        public TSource Source;
        public long N;
        public float Threshold;
        public double* Partials;

        public void Execute(int index)
        {
            long start = (long)index * Elementwise.ChunkElements;
            int len = (int)Math.Min(Elementwise.ChunkElements, Math.Max(0, N - start));
            double* o = Partials + (long)index * StatisticsPartials;
            var acc = stackalloc double[StatisticsPartials];
            for (int s = 0; s < StatisticsPartials; s++) acc[s] = 0;
            int j = Vector512.IsHardwareAccelerated ? Chunk512(start, len, acc) : Vector256.IsHardwareAccelerated ? Chunk256(start, len, acc) : 0;
            float vMax = j > 0 ? (float)acc[OptimizerStatisticSlots.VMax] : float.NegativeInfinity;
            bool hasM = Source.HasMomentum, hasV = Source.HasV;
            for (; j < len; j++)
            {
                Source.Load(start + j, out float g, out float p, out float q, out float m, out float v);
                float d = q - p;
                acc[OptimizerStatisticSlots.GradSq] += (double)g * g;
                acc[OptimizerStatisticSlots.ParamSq] += (double)p * p;
                acc[OptimizerStatisticSlots.PreviousSq] += (double)q * q;
                acc[OptimizerStatisticSlots.UpdateSq] += (double)d * d;
                if (hasM)
                {
                    acc[OptimizerStatisticSlots.MomentumAbsMean] += Math.Abs(m);
                    acc[OptimizerStatisticSlots.MomentumSq] += (double)m * m;
                    acc[OptimizerStatisticSlots.GradDotMomentum] += (double)g * m;
                    if (Sign(d) == Sign(m)) acc[OptimizerStatisticSlots.SignAgreement] += 1;
                }
                if (hasV)
                {
                    acc[OptimizerStatisticSlots.VMean] += v;
                    vMax = Math.Max(vMax, v);
                    if (v < Threshold) acc[OptimizerStatisticSlots.VBelow] += 1;
                }
            }
            acc[OptimizerStatisticSlots.VMax] = !hasV || len == 0 ? 0 : vMax;
            for (int s = 0; s < StatisticsPartials; s++) o[s] = acc[s];
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Sign(float x) => x > 0 ? 1 : x < 0 ? -1 : 0;

        /// <summary>The vector body (16 lanes); returns how many elements it covered. Lane sums go to <paramref name="acc"/> in double.</summary>
        private int Chunk512(long start, int len, double* acc)
        {
            const int W = 16;
            if (len < W) return 0;
            Vector512<float> g2 = default, p2 = default, q2 = default, d2 = default, am = default, m2 = default, gm = default, agree = default, vs = default, below = default;
            Vector512<float> vMax = Vector512.Create(float.NegativeInfinity), one = Vector512<float>.One, zero = Vector512<float>.Zero;
            var threshold = Vector512.Create(Threshold);
            bool hasM = Source.HasMomentum, hasV = Source.HasV;
            int j = 0;
            for (; j <= len - W; j += W)
            {
                Source.Load(start + j, out Vector512<float> g, out Vector512<float> p, out Vector512<float> q, out Vector512<float> m, out Vector512<float> v);
                var d = q - p;
                g2 = Vector512.FusedMultiplyAdd(g, g, g2);
                p2 = Vector512.FusedMultiplyAdd(p, p, p2);
                q2 = Vector512.FusedMultiplyAdd(q, q, q2);
                d2 = Vector512.FusedMultiplyAdd(d, d, d2);
                if (hasM)
                {
                    am += Vector512.Abs(m);
                    m2 = Vector512.FusedMultiplyAdd(m, m, m2);
                    gm = Vector512.FusedMultiplyAdd(g, m, gm);
                    var sd = (Vector512.GreaterThan(d, zero) & one) - (Vector512.LessThan(d, zero) & one);
                    var sm = (Vector512.GreaterThan(m, zero) & one) - (Vector512.LessThan(m, zero) & one);
                    agree += Vector512.Equals(sd, sm) & one;
                }
                if (hasV)
                {
                    vs += v;
                    vMax = Vector512.Max(vMax, v);
                    below += Vector512.LessThan(v, threshold) & one;
                }
            }
            acc[OptimizerStatisticSlots.GradSq] += Sum(g2);
            acc[OptimizerStatisticSlots.ParamSq] += Sum(p2);
            acc[OptimizerStatisticSlots.PreviousSq] += Sum(q2);
            acc[OptimizerStatisticSlots.UpdateSq] += Sum(d2);
            acc[OptimizerStatisticSlots.MomentumAbsMean] += Sum(am);
            acc[OptimizerStatisticSlots.MomentumSq] += Sum(m2);
            acc[OptimizerStatisticSlots.GradDotMomentum] += Sum(gm);
            acc[OptimizerStatisticSlots.SignAgreement] += Sum(agree);
            acc[OptimizerStatisticSlots.VMean] += Sum(vs);
            acc[OptimizerStatisticSlots.VMax] = hasV ? MaxLanes(Vector256.Max(vMax.GetLower(), vMax.GetUpper())) : 0;
            acc[OptimizerStatisticSlots.VBelow] += Sum(below);
            return j;
        }

        /// <summary>The vector body (8 lanes), as <see cref="Chunk512"/>.</summary>
        private int Chunk256(long start, int len, double* acc)
        {
            const int W = 8;
            if (len < W) return 0;
            Vector256<float> g2 = default, p2 = default, q2 = default, d2 = default, am = default, m2 = default, gm = default, agree = default, vs = default, below = default;
            Vector256<float> vMax = Vector256.Create(float.NegativeInfinity), one = Vector256<float>.One, zero = Vector256<float>.Zero;
            var threshold = Vector256.Create(Threshold);
            bool hasM = Source.HasMomentum, hasV = Source.HasV;
            int j = 0;
            for (; j <= len - W; j += W)
            {
                Source.Load(start + j, out Vector256<float> g, out Vector256<float> p, out Vector256<float> q, out Vector256<float> m, out Vector256<float> v);
                var d = q - p;
                g2 = Vector256.FusedMultiplyAdd(g, g, g2);
                p2 = Vector256.FusedMultiplyAdd(p, p, p2);
                q2 = Vector256.FusedMultiplyAdd(q, q, q2);
                d2 = Vector256.FusedMultiplyAdd(d, d, d2);
                if (hasM)
                {
                    am += Vector256.Abs(m);
                    m2 = Vector256.FusedMultiplyAdd(m, m, m2);
                    gm = Vector256.FusedMultiplyAdd(g, m, gm);
                    var sd = (Vector256.GreaterThan(d, zero) & one) - (Vector256.LessThan(d, zero) & one);
                    var sm = (Vector256.GreaterThan(m, zero) & one) - (Vector256.LessThan(m, zero) & one);
                    agree += Vector256.Equals(sd, sm) & one;
                }
                if (hasV)
                {
                    vs += v;
                    vMax = Vector256.Max(vMax, v);
                    below += Vector256.LessThan(v, threshold) & one;
                }
            }
            acc[OptimizerStatisticSlots.GradSq] += Sum(g2);
            acc[OptimizerStatisticSlots.ParamSq] += Sum(p2);
            acc[OptimizerStatisticSlots.PreviousSq] += Sum(q2);
            acc[OptimizerStatisticSlots.UpdateSq] += Sum(d2);
            acc[OptimizerStatisticSlots.MomentumAbsMean] += Sum(am);
            acc[OptimizerStatisticSlots.MomentumSq] += Sum(m2);
            acc[OptimizerStatisticSlots.GradDotMomentum] += Sum(gm);
            acc[OptimizerStatisticSlots.SignAgreement] += Sum(agree);
            acc[OptimizerStatisticSlots.VMean] += Sum(vs);
            acc[OptimizerStatisticSlots.VMax] = hasV ? MaxLanes(vMax) : 0;
            acc[OptimizerStatisticSlots.VBelow] += Sum(below);
            return j;
        }

        private static double Sum(Vector512<float> x) => Vector512.Sum(Vector512.WidenLower(x) + Vector512.WidenUpper(x));

        private static double Sum(Vector256<float> x) => Vector256.Sum(Vector256.WidenLower(x) + Vector256.WidenUpper(x));

        private static float MaxLanes(Vector256<float> x)
        {
            float m = x.GetElement(0);
            for (int i = 1; i < Vector256<float>.Count; i++) m = Math.Max(m, x.GetElement(i));
            return m;
        }
    }
}
