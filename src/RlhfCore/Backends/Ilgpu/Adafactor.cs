using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the Adafactor kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct AdafactorParams
{
    public long N;
    public int Rows, Cols, Factored, HasM, ScaleParameter, Partials;
    public float Lr, Beta1, Beta2, Eps1, Eps2, ClipThreshold, WeightDecay, GradScale;
}

// One Adafactor step on a row-major [R, C] tensor, as Cpu/Adafactor.cs (Shazeer & Stern 2018, Hugging Face's order):
//   factored:   r[i] = β2·r[i] + (1 − β2)·mean_j(g² + ε1);  c[j] = β2·c[j] + (1 − β2)·mean_i(g² + ε1);  v̂ = r[i]·c[j]/mean(r)
//   unfactored: v = β2·v + (1 − β2)·(g² + ε1);  v̂ = v
//   u = g/√v̂ / max(1, RMS(u)/d);  α = lr·(scaleParameter ? max(ε2, RMS(param)) : 1)
//   step = β1 > 0 ? (m = β1·m + (1 − β1)·α·u) : α·u;  param −= α·weightDecay·param + step
// Kernels, in stream order: AdafactorRows (one group per row, a group reduction), AdafactorColumns (one thread per
// column, summing its rows in row order), or AdafactorUnfactored (elementwise v); AdafactorRowMean (one group:
// mean(r) into scratch); AdafactorSums (fixed groups, partial Σu² and Σparam²) and AdafactorSumsFinish (one group);
// AdafactorApply reads the three scratch values on the device, so nothing is read back to the host.
// Scratch doubles: [0] mean(r), [1] Σu², [2] Σparam², [3, 3 + 2·groups) the partials. Deterministic: fixed group
// counts and fixed reduction trees, as GradNorm.cs. Not a gradient kernel: grad is read only.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, AdafactorParams> _adafactorRows = null!, _adafactorColumns = null!, _adafactorUnfactored = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorRowMean = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorSums = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<double>, AdafactorParams> _adafactorSumsFinish = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorApply = null!;

    private void LoadAdafactorKernels()
    {
        _adafactorRows = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, AdafactorParams>(AdafactorRowsKernel, s));
        _adafactorColumns = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, AdafactorParams>(AdafactorColumnsKernel, s));
        _adafactorUnfactored = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, AdafactorParams>(AdafactorUnfactoredKernel, s));
        _adafactorRowMean = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorRowMeanKernel, s));
        _adafactorSums = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorSumsKernel, s));
        _adafactorSumsFinish = Load((a, s) => a.LoadKernel<ArrayView<double>, AdafactorParams>(AdafactorSumsFinishKernel, s));
        _adafactorApply = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorApplyKernel, s));
    }

    internal static void AdafactorRowsKernel(ArrayView<float> grad, ArrayView<float> row, AdafactorParams q)
    {
        double s2 = (double)q.GradScale * q.GradScale;
        for (int r = Grid.IdxX; r < q.Rows; r += Grid.DimX)
        {
            double acc = 0;
            for (int j = Group.IdxX; j < q.Cols; j += Group.DimX)
            {
                double g = grad[(long)r * q.Cols + j];
                acc += g * g;
            }
            acc = GroupExtensions.Reduce<double, AddDouble>(acc);
            if (Group.IsFirstThread) row[r] = (float)(q.Beta2 * (double)row[r] + (1 - (double)q.Beta2) * (s2 * acc / q.Cols + q.Eps1));
            Group.Barrier();
        }
    }

    internal static void AdafactorColumnsKernel(ArrayView<float> grad, ArrayView<float> col, AdafactorParams q)
    {
        double s2 = (double)q.GradScale * q.GradScale;
        for (long j = Grid.GlobalIndex.X; j < q.Cols; j += Grid.DimX * Group.DimX)
        {
            double acc = 0;
            for (int i = 0; i < q.Rows; i++)
            {
                double g = grad[(long)i * q.Cols + j];
                acc += g * g;
            }
            col[j] = (float)(q.Beta2 * (double)col[j] + (1 - (double)q.Beta2) * (s2 * acc / q.Rows + q.Eps1));
        }
    }

    internal static void AdafactorUnfactoredKernel(ArrayView<float> grad, ArrayView<float> v, AdafactorParams q)
    {
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float g = q.GradScale * grad[i];
            v[i] = q.Beta2 * v[i] + (1f - q.Beta2) * (g * g + q.Eps1);
        }
    }

    internal static void AdafactorRowMeanKernel(ArrayView<float> row, ArrayView<double> sums, AdafactorParams q)
    {
        double acc = 0;
        for (int i = Group.IdxX; i < q.Rows; i += Group.DimX) acc += row[i];
        acc = GroupExtensions.Reduce<double, AddDouble>(acc);
        if (Group.IsFirstThread) sums[0] = acc / q.Rows;
    }

    /// <summary>1/√v̂ of element <paramref name="i"/>.</summary>
    private static double InvSqrtV(ArrayView<float> row, ArrayView<float> col, ArrayView<double> sums, long i, AdafactorParams q) =>
        q.Factored != 0
            ? XMath.Rsqrt((double)row[i / q.Cols] * col[i % q.Cols] / sums[0])
            : XMath.Rsqrt((double)row[i]);

    internal static void AdafactorSumsKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> row, ArrayView<float> col, ArrayView<double> sums, AdafactorParams q)
    {
        double u2 = 0, p2 = 0;
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            double u = q.GradScale * (double)grad[i] * InvSqrtV(row, col, sums, i, q);
            double p = param[i];
            u2 += u * u;
            p2 += p * p;
        }
        u2 = GroupExtensions.Reduce<double, AddDouble>(u2);
        p2 = GroupExtensions.Reduce<double, AddDouble>(p2);
        if (Group.IsFirstThread)
        {
            sums[3 + 2 * Grid.IdxX] = u2;
            sums[4 + 2 * Grid.IdxX] = p2;
        }
    }

    internal static void AdafactorSumsFinishKernel(ArrayView<double> sums, AdafactorParams q)
    {
        double u2 = 0, p2 = 0;
        for (int i = Group.IdxX; i < q.Partials; i += Group.DimX)
        {
            u2 += sums[3 + 2 * i];
            p2 += sums[4 + 2 * i];
        }
        u2 = GroupExtensions.Reduce<double, AddDouble>(u2);
        p2 = GroupExtensions.Reduce<double, AddDouble>(p2);
        if (Group.IsFirstThread)
        {
            sums[1] = u2;
            sums[2] = p2;
        }
    }

    internal static void AdafactorApplyKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> row, ArrayView<float> col, ArrayView<float> m, ArrayView<double> sums, AdafactorParams q)
    {
        double clip = XMath.Max(1.0, XMath.Sqrt(sums[1] / q.N) / q.ClipThreshold);
        double alpha = q.ScaleParameter != 0 ? q.Lr * XMath.Max((double)q.Eps2, XMath.Sqrt(sums[2] / q.N)) : q.Lr;
        float decay = (float)(1.0 - alpha * q.WeightDecay), k = (float)(alpha / clip);
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            float step = k * (float)(q.GradScale * (double)grad[i] * InvSqrtV(row, col, sums, i, q));
            if (q.HasM != 0)
            {
                step = q.Beta1 * m[i] + (1f - q.Beta1) * step;
                m[i] = step;
            }
            param[i] = decay * param[i] - step;
        }
    }

    /// <inheritdoc/>
    public void AdafactorUpdate(Tensor param, Tensor grad, Tensor vRow, Tensor vCol, Tensor m, int rows, int cols, float lr, float beta1, float beta2,
        float eps1, float eps2, float clipThreshold, float weightDecay, float gradScale, bool scaleParameter)
    {
        long n = (long)rows * cols;
        if (n == 0) return;
        bool factored = !vCol.IsNone;
        int groups = GradNormGroups;
        var q = new AdafactorParams
        {
            N = n, Rows = factored ? rows : 1, Cols = factored ? cols : checked((int)n), Factored = factored ? 1 : 0, HasM = beta1 > 0 ? 1 : 0,
            ScaleParameter = scaleParameter ? 1 : 0, Partials = groups, Lr = lr, Beta1 = beta1, Beta2 = beta2, Eps1 = eps1, Eps2 = eps2,
            ClipThreshold = clipThreshold, WeightDecay = weightDecay, GradScale = gradScale,
        };
        var sums = ScratchDoubles(0, 3 + 2 * groups);
        ArrayView<float> g = View(grad), r = View(vRow), c = View(vCol), p = View(param);
        if (factored)
        {
            _adafactorRows(_stream, Rows(rows), g, r, q);
            _adafactorColumns(_stream, Flat(cols), g, c, q);
            _adafactorRowMean(_stream, new KernelConfig(1, GroupSize), r, sums, q);
        }
        else _adafactorUnfactored(_stream, Flat(n), g, r, q);
        _adafactorSums(_stream, new KernelConfig(groups, GroupSize), p, g, r, c, sums, q);
        _adafactorSumsFinish(_stream, new KernelConfig(1, GroupSize), sums, q);
        _adafactorApply(_stream, Flat(n), p, g, r, c, View(m), sums, q);
    }
}
