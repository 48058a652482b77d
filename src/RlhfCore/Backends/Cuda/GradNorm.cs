using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors SumSqParams in kernels/cuda/grad_norm.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SumSqParams
{
    public nint X, Partials, Result;
    public long N;
}

/// <summary>Mirrors ScaleParams in kernels/cuda/grad_norm.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct ScaleParams
{
    public nint X;
    public long N;
    public float Scale;
}

// Global gradient norm and clipping (kernels/cuda/grad_norm.cu): a deterministic two-pass sum of squares in
// double over a fixed number of blocks, and an in-place scale.
public sealed partial class CudaBackend
{
    /// <summary>Blocks of the first sum-of-squares pass: SUMSQ_BLOCKS in grad_norm.cu.</summary>
    private const int SumSqBlocks = 512;

    private CudaKernel? _sumsqPartial, _sumsqFinish, _scale;

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x, long n)
    {
        _sumsqPartial ??= Kernel("grad_norm", "sumsq_partial");
        _sumsqFinish ??= Kernel("grad_norm", "sumsq_finish");
        var p = new SumSqParams { X = x.Address, Partials = Scratch(SumSqBlocks * sizeof(double)), Result = result.Address, N = n };
        Launch(_sumsqPartial, (SumSqBlocks, 1, 1), Block1D(256), 0, p);
        Launch(_sumsqFinish, (1, 1, 1), Block1D(256), 0, p);
    }

    /// <inheritdoc/>
    public void Scale(Tensor x, float scale, long n)
    {
        _scale ??= Kernel("grad_norm", "scale");
        LaunchElementwise(_scale, n, new ScaleParams { X = x.Address, N = n, Scale = scale });
    }
}
