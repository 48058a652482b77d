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

    internal static void StatisticsPartialKernel(ArrayView<float> param, ArrayView<float> previous, ArrayView<float> grad, ArrayView<float> momentum, ArrayView<float> v,
        ArrayView<double> partials, OptimizerStatisticsParams q)
    {
        double g2 = 0, p2 = 0, q2 = 0, d2 = 0, am = 0, m2 = 0, gm = 0, agree = 0, vs = 0, below = 0;
        double vMax = double.NegativeInfinity;
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float g = q.GradScale * grad[i], p = param[i], b = previous[i], d = b - p;
            g2 += (double)g * g;
            p2 += (double)p * p;
            q2 += (double)b * b;
            d2 += (double)d * d;
            if (q.HasM != 0)
            {
                float m = momentum[i];
                am += XMath.Abs(m);
                m2 += (double)m * m;
                gm += (double)g * m;
                if (SignOf(d) == SignOf(m)) agree += 1;
            }
            if (q.HasV != 0)
            {
                float x = v[i];
                vs += x;
                vMax = XMath.Max(vMax, x);
                if (x < q.Threshold) below += 1;
            }
        }
        long at = (long)Grid.IdxX * StatisticsSlots;
        g2 = GroupExtensions.Reduce<double, AddDouble>(g2);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.GradSq] = g2;
        p2 = GroupExtensions.Reduce<double, AddDouble>(p2);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.ParamSq] = p2;
        q2 = GroupExtensions.Reduce<double, AddDouble>(q2);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.PreviousSq] = q2;
        d2 = GroupExtensions.Reduce<double, AddDouble>(d2);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.UpdateSq] = d2;
        am = GroupExtensions.Reduce<double, AddDouble>(am);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.MomentumAbsMean] = am;
        m2 = GroupExtensions.Reduce<double, AddDouble>(m2);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.MomentumSq] = m2;
        gm = GroupExtensions.Reduce<double, AddDouble>(gm);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.GradDotMomentum] = gm;
        agree = GroupExtensions.Reduce<double, AddDouble>(agree);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.SignAgreement] = agree;
        vs = GroupExtensions.Reduce<double, AddDouble>(vs);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VMean] = vs;
        vMax = GroupExtensions.Reduce<double, MaxDouble>(vMax);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VMax] = vMax;
        below = GroupExtensions.Reduce<double, AddDouble>(below);
        if (Group.IsFirstThread) partials[at + OptimizerStatisticSlots.VBelow] = below;
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
