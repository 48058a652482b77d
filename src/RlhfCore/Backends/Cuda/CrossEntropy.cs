using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors CrossEntropyParams in kernels/cuda/crossentropy.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CrossEntropyParams
{
    public nint Losses, DLogits, Logits, Targets, Weights;
    public int N, V;
}

// Fused softmax + cross-entropy (kernels/cuda/crossentropy.cu): one block per row; dlogits overwritten,
// may alias logits.
public sealed partial class CudaBackend
{
    private CudaKernel? _crossEntropy;

    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor dlogits, Tensor logits, Tensor targets, Tensor weights, int N, int V)
    {
        if (V < 1) throw new ArgumentOutOfRangeException(nameof(V), V, "vocabulary size must be positive");
        _crossEntropy ??= Kernel("crossentropy", "crossentropy_forward_backward");
        Launch(_crossEntropy, ((uint)N, 1, 1), Block1D(RowThreads(V)), 0, new CrossEntropyParams
        {
            Losses = losses.Address, DLogits = Ptr(dlogits), Logits = logits.Address, Targets = targets.Address, Weights = Ptr(weights), N = N, V = V,
        });
    }

    /// <summary>Threads for a one-block-per-row softmax kernel: enough to cover short rows, 1024 for vocabularies.</summary>
    private static int RowThreads(int V) => V >= 4096 ? 1024 : V >= 512 ? 256 : 64;
}
