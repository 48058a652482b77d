using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors EmbeddingParams in kernels/cuda/embedding.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EmbeddingParams
{
    public nint Out, Tokens, Positions, Wte, Wpe;
    public int N, C, V, MaxT;
}

// Token + position embedding (kernels/cuda/embedding.cu). Backward is the deterministic scatter-add of
// gather_rows.cu, once into dwte by token and once into dwpe by position (both accumulate).
public sealed partial class CudaBackend
{
    private CudaKernel? _embeddingForward;

    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, Tensor tokens, Tensor positions, Tensor wte, Tensor wpe, int N, int C)
    {
        _embeddingForward ??= Kernel("embedding", "embedding_forward");
        Launch(_embeddingForward, ((uint)N, 1, 1), Block1D(128), 0, new EmbeddingParams
        {
            Out = output.Address, Tokens = tokens.Address, Positions = positions.Address, Wte = wte.Address, Wpe = wpe.Address,
            N = N, C = C, V = RowsOf(wte, C), MaxT = RowsOf(wpe, C),
        });
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor dwte, Tensor dwpe, Tensor dout, Tensor tokens, Tensor positions, int N, int C)
    {
        ScatterAddRows(dwte, dout, tokens, N, C);
        ScatterAddRows(dwpe, dout, positions, N, C);
    }

    /// <summary>Rows of a [R, C] table (its length / C), so kernels can bounds-check ids.</summary>
    private static int RowsOf(Tensor t, int C) => C > 0 ? checked((int)(t.Length / C)) : 0;
}
