using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the column gather and its scatter-add.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GatherColumnsParams
{
    public int N, V;
}

// One value per row at a per-row column, as Cpu/GatherColumns.cs:
//   GatherColumnsForward    out[n] = inp[n, cols[n]]         OVERWRITES (a column outside [0, V) gives NaN)
//   GatherColumnsBackward   dinp[n, cols[n]] += dout[n]      ACCUMULATES (outside [0, V): skipped; a kernel cannot throw)
// Each row touches one element of its own row, so there are no races and no ordering to fix.
// Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherColumnsParams> _gatherColumnsForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherColumnsParams> _gatherColumnsBackward = null!;

    private void LoadGatherColumnsKernels()
    {
        _gatherColumnsForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherColumnsParams>(GatherColumnsForwardKernel, s));
        _gatherColumnsBackward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherColumnsParams>(GatherColumnsBackwardKernel, s));
    }

    internal static void GatherColumnsForwardKernel(ArrayView<float> output, ArrayView<float> inp, ArrayView<int> cols, GatherColumnsParams p)
    {
        for (int n = Grid.GlobalIndex.X; n < p.N; n += Grid.DimX * Group.DimX)
        {
            int c = cols[n];
            output[n] = c >= 0 && c < p.V ? inp[(long)n * p.V + c] : float.NaN;
        }
    }

    internal static void GatherColumnsBackwardKernel(ArrayView<float> dinp, ArrayView<float> dout, ArrayView<int> cols, GatherColumnsParams p)
    {
        for (int n = Grid.GlobalIndex.X; n < p.N; n += Grid.DimX * Group.DimX)
        {
            int c = cols[n];
            if (c >= 0 && c < p.V) dinp[(long)n * p.V + c] += dout[n];
        }
    }

    /// <inheritdoc/>
    public void GatherColumnsForward(Tensor output, Tensor inp, Tensor cols, int N, int V)
    {
        if (N == 0) return;
        _gatherColumnsForward(_stream, Flat(N), View(output), View(inp), Ints(cols), new GatherColumnsParams { N = N, V = V });
    }

    /// <inheritdoc/>
    public void GatherColumnsBackward(Tensor dinp, Tensor dout, Tensor cols, int N, int V)
    {
        if (N == 0) return;
        _gatherColumnsBackward(_stream, Flat(N), View(dinp), View(dout), Ints(cols), new GatherColumnsParams { N = N, V = V });
    }
}
