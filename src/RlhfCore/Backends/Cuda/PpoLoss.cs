using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors the 104-byte parameter struct of <c>ppo_loss</c> in kernels/ptx/ppo_loss.ptx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PpoLossParams
{
    public nint DLogits, Losses, Logp, Entropy, Clipped, Logits, Actions, OldLogp, Advantages, Weights;
    public int N, V;
    public float ClipLow, ClipHigh, DualClip, EntropyCoef;
}

// PPO clipped loss fused over the vocabulary (hand-written PTX, kernels/ptx/ppo_loss.ptx): one CTA per
// token row; the math and gradient rule are those of Cpu/PpoLoss.cs.
public sealed partial class CudaBackend
{
    private CudaKernel? _ppoLoss;

    /// <summary>
    /// Threads per row: a multiple of 32 giving each thread about 16 logits (4 float4s), at most 256
    /// (the kernel's .maxntid). A small vocabulary gets a single warp rather than mostly idle warps.
    /// </summary>
    internal static int PpoLossThreads(int V) => Math.Clamp(((V + 15) / 16 + 31) / 32 * 32, 32, 256);

    /// <inheritdoc/>
    public void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipLow, float clipHigh, float dualClip, float entropyCoef)
    {
        if (V <= 0) throw new ArgumentOutOfRangeException(nameof(V), V, "PPO loss: the vocabulary must be non-empty");
        _ppoLoss ??= LoadPtxKernel("ppo_loss.ptx", "ppo_loss");
        var p = new PpoLossParams
        {
            DLogits = dlogits.Address, Losses = losses.Address, Logp = logp.Address, Entropy = entropy.Address, Clipped = clipped.Address,
            Logits = logits.Address, Actions = actions.Address, OldLogp = oldLogp.Address, Advantages = advantages.Address, Weights = weights.Address,
            N = N, V = V, ClipLow = clipLow, ClipHigh = clipHigh, DualClip = dualClip, EntropyCoef = entropyCoef,
        };
        Launch(_ppoLoss, ((uint)N, 1, 1), Block1D(PpoLossThreads(V)), 0, p);
    }
}
