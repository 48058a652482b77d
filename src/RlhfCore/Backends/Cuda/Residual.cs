using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors ResidualParams in kernels/cuda/residual.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ResidualParams
{
    public nint Out, A, B;
    public long N;
}

// Residual add (kernels/cuda/residual.cu): out = a + b; backward dinp += dout (accumulates).
public sealed partial class CudaBackend
{
    private CudaKernel? _residualForward, _residualBackward;

    /// <inheritdoc/>
    public void ResidualForward(Tensor output, Tensor a, Tensor b, long n)
    {
        _residualForward ??= Kernel("residual", "residual_forward");
        LaunchElementwise(_residualForward, n, new ResidualParams { Out = output.Address, A = a.Address, B = b.Address, N = n });
    }

    /// <inheritdoc/>
    public void ResidualBackward(Tensor dinp, Tensor dout, long n)
    {
        _residualBackward ??= Kernel("residual", "residual_backward");
        LaunchElementwise(_residualBackward, n, new ResidualParams { Out = dinp.Address, A = dout.Address, N = n });
    }

    /// <summary>
    /// Launches a grid-stride elementwise kernel over <paramref name="n"/> floats (256 threads, four
    /// floats per thread per iteration, at most <see cref="MaxGridStrideBlocks"/> blocks).
    /// </summary>
    internal void LaunchElementwise<T>(CudaKernel k, long n, in T args) where T : unmanaged
    {
        const int Threads = 256;
        long blocks = Math.Min((n + 4L * Threads - 1) / (4L * Threads), MaxGridStrideBlocks);
        Launch(k, ((uint)blocks, 1, 1), Block1D(Threads), 0, args);
    }
}
