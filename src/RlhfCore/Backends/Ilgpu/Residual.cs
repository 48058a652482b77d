using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the residual kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ResidualParams
{
    public long N;
}

// Residual add, as Cpu/Residual.cs:
//   forward   out = a + b (out may alias a or b: each element is read before it is written, by one thread)
//   backward  dinp += dout
// Gradient rule: the residual branch point sends the same gradient to both inputs, so backward ACCUMULATES
// into the residual stream's gradient.
// Launch: grid-stride over n.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ResidualParams> _residualForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ResidualParams> _residualBackward = null!;

    private void LoadResidualKernels()
    {
        _residualForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ResidualParams>(ResidualForwardKernel, s));
        _residualBackward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ResidualParams>(ResidualBackwardKernel, s));
    }

    internal static void ResidualForwardKernel(ArrayView<float> output, ArrayView<float> a, ArrayView<float> b, ResidualParams p)
    {
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX) output[i] = a[i] + b[i];
    }

    internal static void ResidualBackwardKernel(ArrayView<float> dinp, ArrayView<float> dout, ResidualParams p)
    {
        for (long i = Grid.GlobalIndex.X; i < p.N; i += Grid.DimX * Group.DimX) dinp[i] += dout[i];
    }

    /// <inheritdoc/>
    public void ResidualForward(Tensor output, Tensor a, Tensor b, long n)
    {
        if (n == 0) return;
        _residualForward(_stream, Flat(n), View(output), View(a), View(b), new ResidualParams { N = n });
    }

    /// <inheritdoc/>
    public void ResidualBackward(Tensor dinp, Tensor dout, long n)
    {
        if (n == 0) return;
        _residualBackward(_stream, Flat(n), View(dinp), View(dout), new ResidualParams { N = n });
    }
}
