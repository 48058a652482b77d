using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the AdamW kernel (bias corrections precomputed on the host in double).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AdamWParams
{
    public long N;
    public float Lr, Beta1, Beta2, Eps, WeightDecay, GradScale, MHatScale, VHatScale;
}

/// <summary>Parameters of the fused AdamW + statistics kernel: the update's, and the v threshold of the telemetry.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AdamWStatisticsParams
{
    public AdamWParams Update;
    public float Threshold, Pad;
}

// One AdamW step over n elements (Loshchilov & Hutter), in place on param, m, v, as Cpu/AdamW.cs:
//   g = gradScale·grad;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   param −= lr·(m·mHatScale / (√(v·vHatScale) + eps) + weightDecay·param)
// with mHatScale = 1/(1 − β1ᵗ), vHatScale = 1/(1 − β2ᵗ) computed on the host in double.
// Not a gradient kernel: it consumes the accumulated parameter gradients (grad is read only).
// Launch: grid-stride over n. The fused kernel (AdamWUpdateWithStatistics) runs the same element step on the fixed grid
// of OptimizerStatistics.cs and accumulates that file's StatisticsSums from the values it already holds, then the same
// finish kernel writes the slots: no copy of the parameters and no second pass over them.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWParams> _adamw = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdamWStatisticsParams> _adamwStatistics = null!;

    private void LoadAdamWKernels()
    {
        _adamw = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamWParams>(AdamWKernel, s));
        _adamwStatistics = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdamWStatisticsParams>(AdamWStatisticsKernel, s));
    }

    /// <summary>One element's (param, m, v) after the step.</summary>
    internal struct AdamWElement
    {
        public float P, M, V;
    }

    /// <summary>The AdamW step of one element: the one formula both kernels use, so their results are the same bits.</summary>
    internal static AdamWElement AdamWStep(float p, float m, float v, float grad, AdamWParams q)
    {
        float g = q.GradScale * grad;
        float mi = q.Beta1 * m + (1f - q.Beta1) * g;
        float vi = q.Beta2 * v + (1f - q.Beta2) * (g * g);
        float update = mi * q.MHatScale / (XMath.Sqrt(vi * q.VHatScale) + q.Eps);
        return new AdamWElement { P = p - q.Lr * (q.WeightDecay * p + update), M = mi, V = vi };
    }

    internal static void AdamWKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, AdamWParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            var e = AdamWStep(param[i], m[i], v[i], grad[i], q);
            param[i] = e.P;
            m[i] = e.M;
            v[i] = e.V;
        }
    }

    internal static void AdamWStatisticsKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, ArrayView<float> v, ArrayView<double> partials, AdamWStatisticsParams q)
    {
        var sums = StatisticsSums.Empty;
        for (long i = Grid.GlobalIndex.X; i < q.Update.N; i += Grid.DimX * Group.DimX)
        {
            float previous = param[i], gi = grad[i];
            var e = AdamWStep(previous, m[i], v[i], gi, q.Update);
            param[i] = e.P;
            m[i] = e.M;
            v[i] = e.V;
            sums = StatisticsSums.Add(sums, q.Update.GradScale * gi, e.P, previous, e.M, e.V, true, true, q.Threshold);
        }
        StatisticsSums.WritePartials(sums, partials, (long)Grid.IdxX * StatisticsSlots);
    }

    private static AdamWParams AdamWParamsOf(long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "AdamW steps count from 1 (bias correction 1 − βᵗ would be 0)");
        return new AdamWParams
        {
            N = n, Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay, GradScale = gradScale,
            MHatScale = (float)(1.0 / (1.0 - Math.Pow(beta1, step))), VHatScale = (float)(1.0 / (1.0 - Math.Pow(beta2, step))),
        };
    }

    /// <inheritdoc/>
    public void AdamWUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        var q = AdamWParamsOf(n, lr, beta1, beta2, eps, weightDecay, gradScale, step);
        if (n == 0) return;
        _adamw(_stream, Flat(n), View(param), View(grad), View(m), View(v), q);
    }

    /// <inheritdoc/>
    public void AdamWUpdateWithStatistics(Tensor stats, Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps,
        float weightDecay, float gradScale, int step, float vThreshold)
    {
        var q = new AdamWStatisticsParams { Update = AdamWParamsOf(n, lr, beta1, beta2, eps, weightDecay, gradScale, step), Threshold = vThreshold };
        int groups = GradNormGroups;
        var partials = ScratchDoubles(0, (long)groups * StatisticsSlots);
        _adamwStatistics(_stream, new KernelConfig(groups, GroupSize), View(param), View(grad), View(m), View(v), partials, q);
        var finish = new OptimizerStatisticsParams { N = n, HasM = 1, HasV = 1, Partials = groups, GradScale = gradScale, Threshold = vThreshold };
        _statisticsFinish(_stream, new KernelConfig(1, GroupSize), View(stats), partials, finish);
    }
}
