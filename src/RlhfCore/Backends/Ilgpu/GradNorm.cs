using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the sum-of-squares kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GradNormParams
{
    public long N;
    public int Partials, Pad;
}

/// <summary>Parameters of the scale kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ScaleParams
{
    public long N;
    public float Scale;
    public int Pad;
}

// Global gradient norm and clipping, as Cpu/GradNorm.cs:
//   SumOfSquares  result[0] = Σ x², accumulated in double. Deterministic: pass 1 always uses the same
//                 number of groups (GradNormGroups, fixed per accelerator), each summing a fixed
//                 grid-stride subset and reducing with ILGPU.Algorithms' group reduction (a fixed tree);
//                 pass 2 (one group) adds the partials, again in a fixed order. The bits depend on n alone.
//   Scale         x *= scale (in place; clipping by the global norm).
// Neither is a gradient kernel: result is overwritten, Scale updates x in place.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<double>, GradNormParams> _gradNormPartial = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<double>, GradNormParams> _gradNormFinish = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ScaleParams> _scale = null!;

    /// <summary>Groups of the first sum-of-squares pass: a constant per accelerator, so results do not depend on the device size.</summary>
    private int GradNormGroups => Kind == IlgpuAcceleratorKind.Cpu ? CpuMaxGroups : 512;

    private void LoadGradNormKernels()
    {
        _gradNormPartial = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, GradNormParams>(GradNormPartialKernel, s));
        _gradNormFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<double>, GradNormParams>(GradNormFinishKernel, s));
        _scale = Load((a, s) => a.LoadKernel<ArrayView<float>, ScaleParams>(ScaleKernel, s));
    }

    internal static void GradNormPartialKernel(ArrayView<float> x, ArrayView<double> partials, GradNormParams p)
    {
        double acc = 0;
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX)
        {
            double v = x[i];
            acc += v * v;
        }
        acc = GroupExtensions.Reduce<double, AddDouble>(acc);
        if (Group.IsFirstThread) partials[Grid.IdxX] = acc;
    }

    internal static void GradNormFinishKernel(ArrayView<float> result, ArrayView<double> partials, GradNormParams p)
    {
        double acc = 0;
        for (int i = Group.IdxX; i < p.Partials; i += Group.DimX) acc += partials[i];
        acc = GroupExtensions.Reduce<double, AddDouble>(acc);
        if (Group.IsFirstThread) result[0] = (float)acc;
    }

    internal static void ScaleKernel(ArrayView<float> x, ScaleParams p)
    {
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX) x[i] *= p.Scale;
    }

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x, long n)
    {
        int groups = GradNormGroups;
        var partials = ScratchDoubles(0, groups);
        var p = new GradNormParams { N = n, Partials = groups };
        _gradNormPartial(_stream, new KernelConfig(groups, GroupSize), View(x), partials, p);
        _gradNormFinish(_stream, new KernelConfig(1, GroupSize), View(result), partials, p);
    }

    /// <inheritdoc/>
    public void Scale(Tensor x, float scale, long n)
    {
        if (n == 0) return;
        _scale(_stream, Flat(n), View(x), new ScaleParams { N = n, Scale = scale });
    }
}
