using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors GatherParams in kernels/cuda/gather_rows.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GatherParams
{
    public nint Out, Inp, Ids;
    public int M, C, R, Pad;
}

// Row gather and the deterministic scatter-add (kernels/cuda/gather_rows.cu); backward accumulates.
public sealed partial class CudaBackend
{
    /// <summary>Threads per scatter-add block: SCATTER_THREADS in gather_rows.cu.</summary>
    private const int ScatterThreads = 256;

    private CudaKernel? _gatherForward, _scatterAdd;

    /// <inheritdoc/>
    public void GatherRowsForward(Tensor output, Tensor inp, Tensor rows, int M, int C)
    {
        _gatherForward ??= Kernel("gather_rows", "gather_rows_forward");
        Launch(_gatherForward, ((uint)M, 1, 1), Block1D(128), 0,
            new GatherParams { Out = output.Address, Inp = inp.Address, Ids = rows.Address, M = M, C = C, R = RowsOf(inp, C) });
    }

    /// <inheritdoc/>
    public void GatherRowsBackward(Tensor dinp, Tensor dout, Tensor rows, int M, int C) => ScatterAddRows(dinp, dout, rows, M, C);

    /// <summary>dst[ids[m], :] += src[m, :], deterministic for repeated ids.</summary>
    private void ScatterAddRows(Tensor dst, Tensor src, Tensor ids, int M, int C)
    {
        _scatterAdd ??= Kernel("gather_rows", "scatter_add_rows");
        Launch(_scatterAdd, ((uint)M, 1, 1), Block1D(ScatterThreads), 0,
            new GatherParams { Out = dst.Address, Inp = src.Address, Ids = ids.Address, M = M, C = C, R = RowsOf(dst, C) });
    }
}
