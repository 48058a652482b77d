using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the optimizer-statistics kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct OptimizerStatisticsParams
{
    public long N;
    public int HasM, HasV, Partials, Pad;
    public float GradScale, Threshold;
}

// Optimizer telemetry of one parameter tensor, as Cpu/OptimizerStatistics.cs (the slots of OptimizerStatisticSlots):
// with g = gradScale·grad and d = previous − param, Σg², Σparam², Σprevious², Σd², mean|m|, Σm², Σg·m,
// fraction(sign(d) = sign(m)), mean v, max v, fraction(v < threshold).
// Two passes, as GradNorm.cs: a fixed number of groups (GradNormGroups) each accumulate a grid-stride subset in
// double and reduce it with ILGPU.Algorithms' group reductions into KernelSlots partials in scratch; one group adds
// the partials in a fixed order and writes the F32 slots. Deterministic; not a gradient kernel.
// AdamW.cs's fused kernel accumulates the same StatisticsSums in its update loop and ends with the same finish kernel.
public sealed partial class IlgpuBackend
{
    private const int StatisticsSlots = OptimizerStatisticSlots.KernelSlots;

    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, OptimizerStatisticsParams> _statisticsPartial = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<double>, OptimizerStatisticsParams> _statisticsFinish = null!;

    private void LoadOptimizerStatisticsKernels()
    {
        _statisticsPartial = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, OptimizerStatisticsParams>(StatisticsPartialKernel, s));
        _statisticsFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, OptimizerStatisticsParams>(StatisticsFinishKernel, s));
    }

    private static float SignOf(float x) => x > 0f ? 1f : x < 0f ? -1f : 0f;

    /// <summary>One thread's running statistics (the KernelSlots sums, in double), passed by value so kernels stay plain SSA.</summary>
    internal struct StatisticsSums
    {
        public double G2, P2, Q2, D2, Am, M2, Gm, Agree, Vs, VMax, Below;

        /// <summary>No elements yet (max v starts at −∞).</summary>
        public static StatisticsSums Empty => new() { VMax = double.NegativeInfinity };

        /// <summary><paramref name="s"/> plus one element: g = gradScale·grad, the parameter after (p) and before (b) the step, m and v.</summary>
        public static StatisticsSums Add(StatisticsSums s, float g, float p, float b, float m, float v, bool hasM, bool hasV, float threshold)
        {
            float d = b - p;
            s.G2 += (double)g * g;
            s.P2 += (double)p * p;
            s.Q2 += (double)b * b;
            s.D2 += (double)d * d;
            if (hasM)
            {
                s.Am += XMath.Abs(m);
                s.M2 += (double)m * m;
                s.Gm += (double)g * m;
                if (SignOf(d) == SignOf(m)) s.Agree += 1;
            }
            if (hasV)
            {
                s.Vs += v;
                s.VMax = XMath.Max(s.VMax, v);
                if (v < threshold) s.Below += 1;
            }
            return s;
        }

        /// <summary>Reduces every thread's sums over the group and writes the group's KernelSlots partials at <paramref name="at"/>.</summary>
        public static void WritePartials(StatisticsSums s, ArrayView<double> partials, long at)
        {
            double x = GroupExtensions.Reduce<double, AddDouble>(s.G2);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.GradSq] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.P2);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.ParamSq] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Q2);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.PreviousSq] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.D2);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.UpdateSq] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Am);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.MomentumAbsMean] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.M2);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.MomentumSq] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Gm);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.GradDotMomentum] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Agree);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.SignAgreement] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Vs);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VMean] = x;
            x = GroupExtensions.Reduce<double, MaxDouble>(s.VMax);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VMax] = x;
            x = GroupExtensions.Reduce<double, AddDouble>(s.Below);
            if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VBelow] = x;
        }
    }

    internal static void StatisticsPartialKernel(ArrayView<float> param, ArrayView<float> previous, ArrayView<float> grad, ArrayView<float> momentum, ArrayView<float> v,
        ArrayView<double> partials, OptimizerStatisticsParams q)
    {
        var sums = StatisticsSums.Empty;
        bool hasM = q.HasM != 0, hasV = q.HasV != 0;
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
            sums = StatisticsSums.Add(sums, q.GradScale * grad[i], param[i], previous[i], hasM ? momentum[i] : 0f, hasV ? v[i] : 0f, hasM, hasV, q.Threshold);
        StatisticsSums.WritePartials(sums, partials, (long)Grid.IdxX * StatisticsSlots);
    }

    internal static void StatisticsFinishKernel(ArrayView<float> stats, ArrayView<double> partials, OptimizerStatisticsParams q)
    {
        double count = XMath.Max(1.0, (double)q.N);
        for (int s = 0; s < StatisticsSlots; s++)
        {
            bool max = s == OptimizerStatisticSlots.VMax;
            double acc = max ? double.NegativeInfinity : 0;
            for (int i = Group.IdxX; i < q.Partials; i += Group.DimX)
            {
                double x = partials[(long)i * StatisticsSlots + s];
                acc = max ? XMath.Max(acc, x) : acc + x;
            }
            acc = max ? GroupExtensions.Reduce<double, MaxDouble>(acc) : GroupExtensions.Reduce<double, AddDouble>(acc);
            if (Group.IsFirstThread)
            {
                bool mean = s == OptimizerStatisticSlots.MomentumAbsMean || s == OptimizerStatisticSlots.SignAgreement
                    || s == OptimizerStatisticSlots.VMean || s == OptimizerStatisticSlots.VBelow;
                stats[s] = max ? (q.HasV != 0 && q.N > 0 ? (float)acc : 0f) : (float)(mean ? acc / count : acc);
            }
            Group.Barrier();
        }
    }

    /// <inheritdoc/>
    public void OptimizerStatistics(Tensor stats, Tensor param, Tensor previous, Tensor grad, Tensor momentum, Tensor v, long n, float gradScale, float vThreshold)
    {
        int groups = GradNormGroups;
        var partials = ScratchDoubles(0, (long)groups * StatisticsSlots);
        var q = new OptimizerStatisticsParams
        {
            N = n, HasM = momentum.IsNone ? 0 : 1, HasV = v.IsNone ? 0 : 1, Partials = groups, GradScale = gradScale, Threshold = vThreshold,
        };
        _statisticsPartial(_stream, new KernelConfig(groups, GroupSize), View(param), View(previous), View(grad), View(momentum), View(v), partials, q);
        _statisticsFinish(_stream, new KernelConfig(1, GroupSize), View(stats), partials, q);
    }
}
