using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors GeluParams in kernels/cuda/gelu.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GeluParams
{
    public nint Out, Inp, Dout;
    public long N;
}

// GELU, tanh form (kernels/cuda/gelu.cu): dinp is overwritten.
public sealed partial class CudaBackend
{
    private CudaKernel? _geluForward, _geluBackward;

    /// <inheritdoc/>
    public void GeluForward(Tensor output, Tensor inp, long n)
    {
        _geluForward ??= Kernel("gelu", "gelu_forward");
        LaunchElementwise(_geluForward, n, new GeluParams { Out = output.Address, Inp = inp.Address, N = n });
    }

    /// <inheritdoc/>
    public void GeluBackward(Tensor dinp, Tensor inp, Tensor dout, long n)
    {
        _geluBackward ??= Kernel("gelu", "gelu_backward");
        LaunchElementwise(_geluBackward, n, new GeluParams { Out = dinp.Address, Inp = inp.Address, Dout = dout.Address, N = n });
    }
}
