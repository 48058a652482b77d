using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the embedding forward kernel (V rows in wte, MaxT rows in wpe).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct EmbeddingParams
{
    public int N, C, V, MaxT;
}

// Token + learned position embedding, as Cpu/Embedding.cs:
//   forward   out[n, :] = wte[tokens[n], :] + wpe[positions[n], :]
//   backward  dwte[tokens[n], :] += dout[n, :];  dwpe[positions[n], :] += dout[n, :]
// Gradient rule: both are parameter gradients and ACCUMULATE. Backward is the deterministic scatter-add of
// GatherRows.cs, once for tokens and once for positions. An id outside its table cannot be reported from a
// kernel without a host sync: forward writes that row as NaN so the loss shows it (the CPU backend checks
// ids on the host and throws); backward skips it.
// Launch: one group per row n, grid-stride over rows.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, EmbeddingParams> _embeddingForward = null!;

    private void LoadEmbeddingKernels() =>
        _embeddingForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<int>, ArrayView<int>, ArrayView<float>, ArrayView<float>, EmbeddingParams>(EmbeddingForwardKernel, s));

    internal static void EmbeddingForwardKernel(ArrayView<float> output, ArrayView<int> tokens, ArrayView<int> positions,
        ArrayView<float> wte, ArrayView<float> wpe, EmbeddingParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            int t = tokens[n], pos = positions[n];
            bool ok = t >= 0 && t < p.V && pos >= 0 && pos < p.MaxT;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
                output[(long)n * p.C + c] = ok ? wte[(long)t * p.C + c] + wpe[(long)pos * p.C + c] : float.NaN;
        }
    }

    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, Tensor tokens, Tensor positions, Tensor wte, Tensor wpe, int N, int C)
    {
        if (N == 0 || C == 0) return;
        _embeddingForward(_stream, Rows(N), View(output), Ints(tokens), Ints(positions), View(wte), View(wpe),
            new EmbeddingParams { N = N, C = C, V = (int)(wte.Length / C), MaxT = (int)(wpe.Length / C) });
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor dwte, Tensor dwpe, Tensor dout, Tensor tokens, Tensor positions, int N, int C)
    {
        ScatterAddRows(dwte, dout, tokens, N, C);
        ScatterAddRows(dwpe, dout, positions, N, C);
    }
}
