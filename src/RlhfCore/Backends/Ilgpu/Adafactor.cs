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
// Kernels, in stream order. Factored: AdafactorRows (one group per row, a group reduction); AdafactorColumns (one
// thread per column of each of up to 64 fixed row blocks, summing the block's rows in row order: Σ grad² and
// W = Σ grad²/r[i]); AdafactorColumnsFinish (one thread per column, the blocks in block order: c[j], and W[j]/c[j]);
// AdafactorFactoredFinish (one group: mean(r), and Σu² = gradScale²·mean(r)·Σ_j W[j]/c[j], since
// u² = g²·mean(r)/(r[i]·c[j])), so Σu² needs no pass over the tensor. Unfactored: AdafactorUnfactored (elementwise v).
// AdafactorSums (fixed groups: partial Σu² when unfactored, Σparam² when scaleParameter) and AdafactorSumsFinish
// (one group) run only when one of those is needed. AdafactorApply (one group per row when factored, so the row's
// √(mean(r)/r[i]) is read once per row and no element index is divided) reads the scratch values on the device, so
// nothing is read back to the host.
// Scratch doubles: [0] mean(r), [1] Σu², [2] Σparam², [3, 3 + 2·groups) the partials, then W[j]/c[j] per column,
// then the row blocks' column partials (Σ grad², W) per block and column.
// Deterministic: fixed group counts and fixed reduction trees, as GradNorm.cs. Not a gradient kernel: grad is read only.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, AdafactorParams> _adafactorRows = null!, _adafactorUnfactored = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorColumns = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorColumnsFinish = null!, _adafactorFactoredFinish = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorSums = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<double>, AdafactorParams> _adafactorSumsFinish = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams> _adafactorApply = null!;

    private void LoadAdafactorKernels()
    {
        _adafactorRows = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, AdafactorParams>(AdafactorRowsKernel, s));
        _adafactorColumns = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorColumnsKernel, s));
        _adafactorColumnsFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorColumnsFinishKernel, s));
        _adafactorUnfactored = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, AdafactorParams>(AdafactorUnfactoredKernel, s));
        _adafactorFactoredFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorFactoredFinishKernel, s));
        _adafactorSums = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorSumsKernel, s));
        _adafactorSumsFinish = Load((a, s) => a.LoadKernel<ArrayView<double>, AdafactorParams>(AdafactorSumsFinishKernel, s));
        _adafactorApply = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<double>, AdafactorParams>(AdafactorApplyKernel, s));
    }

    /// <summary>Where the per-column W[j]/c[j] start in the scratch doubles.</summary>
    private static long ColumnSlots(AdafactorParams q) => 3 + 2L * q.Partials;

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

    /// <summary>Row blocks of the column sums: enough threads for the GPU on tall tensors, independent of the device.</summary>
    private const int AdafactorRowBlocks = 64;

    /// <summary>The row blocks of a factored tensor: <see cref="AdafactorRowBlocks"/>, or fewer when it has fewer rows.</summary>
    private static int RowBlocks(AdafactorParams q) => XMath.Min(q.Rows, AdafactorRowBlocks);

    /// <summary>Where the blocks' column partials start in the scratch doubles (after W[j]/c[j]).</summary>
    private static long ColumnPartialSlots(AdafactorParams q) => ColumnSlots(q) + q.Cols;

    internal static void AdafactorColumnsKernel(ArrayView<float> grad, ArrayView<float> row, ArrayView<double> sums, AdafactorParams q)
    {
        int blocks = RowBlocks(q), rowsPerBlock = (q.Rows + blocks - 1) / blocks;
        long items = (long)blocks * q.Cols, partials = ColumnPartialSlots(q);
        for (long t = Grid.GlobalIndex.X; t < items; t += Grid.DimX * Group.DimX)
        {
            int b = (int)(t / q.Cols), j = (int)(t - (long)b * q.Cols);
            int i1 = XMath.Min(q.Rows, (b + 1) * rowsPerBlock);
            double acc = 0, weighted = 0;
            for (int i = b * rowsPerBlock; i < i1; i++)
            {
                double g = grad[(long)i * q.Cols + j];
                acc += g * g;
                weighted += g * g / row[i];
            }
            sums[partials + 2 * t] = acc;
            sums[partials + 2 * t + 1] = weighted;
        }
    }

    internal static void AdafactorColumnsFinishKernel(ArrayView<float> col, ArrayView<double> sums, AdafactorParams q)
    {
        double s2 = (double)q.GradScale * q.GradScale;
        int blocks = RowBlocks(q);
        long slots = ColumnSlots(q), partials = ColumnPartialSlots(q);
        for (long j = Grid.GlobalIndex.X; j < q.Cols; j += Grid.DimX * Group.DimX)
        {
            double acc = 0, weighted = 0;
            for (int b = 0; b < blocks; b++)
            {
                acc += sums[partials + 2 * ((long)b * q.Cols + j)];
                weighted += sums[partials + 2 * ((long)b * q.Cols + j) + 1];
            }
            float c = (float)(q.Beta2 * (double)col[j] + (1 - (double)q.Beta2) * (s2 * acc / q.Rows + q.Eps1));
            col[j] = c;
            sums[slots + j] = weighted / c;
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

    internal static void AdafactorFactoredFinishKernel(ArrayView<float> row, ArrayView<double> sums, AdafactorParams q)
    {
        double acc = 0, weighted = 0;
        for (int i = Group.IdxX; i < q.Rows; i += Group.DimX) acc += row[i];
        long slots = ColumnSlots(q);
        for (int j = Group.IdxX; j < q.Cols; j += Group.DimX) weighted += sums[slots + j];
        acc = GroupExtensions.Reduce<double, AddDouble>(acc);
        weighted = GroupExtensions.Reduce<double, AddDouble>(weighted);
        if (Group.IsFirstThread)
        {
            double mean = acc / q.Rows;
            sums[0] = mean;
            sums[1] = (double)q.GradScale * q.GradScale * mean * weighted;
        }
    }

    internal static void AdafactorSumsKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> v, ArrayView<double> sums, AdafactorParams q)
    {
        double u2 = 0, p2 = 0;
        for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
        {
            if (q.Factored == 0)
            {
                double u = q.GradScale * (double)grad[i] * XMath.Rsqrt((double)v[i]);
                u2 += u * u;
            }
            if (q.ScaleParameter != 0)
            {
                double p = param[i];
                p2 += p * p;
            }
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
            if (q.Factored == 0) sums[1] = u2;
            sums[2] = p2;
        }
    }

    internal static void AdafactorApplyKernel(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> row, ArrayView<float> col, ArrayView<float> m, ArrayView<double> sums, AdafactorParams q)
    {
        double clip = XMath.Max(1.0, XMath.Sqrt(sums[1] / q.N) / q.ClipThreshold);
        double alpha = q.ScaleParameter != 0 ? q.Lr * XMath.Max((double)q.Eps2, XMath.Sqrt(sums[2] / q.N)) : q.Lr;
        float decay = (float)(1.0 - alpha * q.WeightDecay);
        double k = alpha / clip * q.GradScale;
        if (q.Factored != 0)
        {
            double mean = sums[0];
            for (int r = Grid.IdxX; r < q.Rows; r += Grid.DimX)
            {
                float rowFactor = (float)(k * XMath.Sqrt(mean / row[r]));
                for (int j = Group.IdxX; j < q.Cols; j += Group.DimX)
                    ApplyElement(param, grad, m, (long)r * q.Cols + j, rowFactor / XMath.Sqrt(col[j]), decay, q);
            }
        }
        else
        {
            for (long i = Grid.GlobalIndex.X; i < q.N; i += Grid.DimX * Group.DimX)
                ApplyElement(param, grad, m, i, (float)(k * XMath.Rsqrt((double)row[i])), decay, q);
        }
    }

    /// <summary>The update of element <paramref name="i"/>, whose step is <paramref name="scale"/>·grad before the first moment.</summary>
    private static void ApplyElement(ArrayView<float> param, ArrayView<float> grad, ArrayView<float> m, long i, float scale, float decay, AdafactorParams q)
    {
        float step = scale * grad[i];
        if (q.HasM != 0)
        {
            step = q.Beta1 * m[i] + (1f - q.Beta1) * step;
            m[i] = step;
        }
        param[i] = decay * param[i] - step;
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
        var sums = ScratchDoubles(0, ColumnSlots(q) + (factored ? cols * (1 + 2L * RowBlocks(q)) : 0));
        ArrayView<float> g = View(grad), r = View(vRow), c = View(vCol), p = View(param);
        if (factored)
        {
            _adafactorRows(_stream, Rows(rows), g, r, q);
            _adafactorColumns(_stream, Flat((long)RowBlocks(q) * cols), g, r, sums, q);
            _adafactorColumnsFinish(_stream, Flat(cols), c, sums, q);
            _adafactorFactoredFinish(_stream, new KernelConfig(1, GroupSize), r, sums, q);
        }
        else _adafactorUnfactored(_stream, Flat(n), g, r, q);
        if (!factored || scaleParameter)
        {
            _adafactorSums(_stream, new KernelConfig(groups, GroupSize), p, g, r, sums, q);
            _adafactorSumsFinish(_stream, new KernelConfig(1, GroupSize), sums, q);
        }
        _adafactorApply(_stream, factored ? Rows(rows) : Flat(n), p, g, r, c, View(m), sums, q);
    }
}
