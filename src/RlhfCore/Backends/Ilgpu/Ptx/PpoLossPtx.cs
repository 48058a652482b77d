using RlhfCore.Backends.Cuda;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// PPO clipped loss fused over the vocabulary on CUDA: kernels/ptx/ppo_loss.ptx (one CTA per token row),
// launched in ILGPU's context on ILGPU's stream. Parameter struct and block size as the NVRTC backend's.
public sealed partial class IlgpuBackend
{
    private void PtxPpoLoss(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipLow, float clipHigh, float dualClip, float entropyCoef)
    {
        var p = new PpoLossParams
        {
            DLogits = dlogits.Address, Losses = losses.Address, Logp = logp.Address, Entropy = entropy.Address, Clipped = clipped.Address,
            Logits = logits.Address, Actions = actions.Address, OldLogp = oldLogp.Address, Advantages = advantages.Address, Weights = weights.Address,
            N = N, V = V, ClipLow = clipLow, ClipHigh = clipHigh, DualClip = dualClip, EntropyCoef = entropyCoef,
        };
        Ptx.Launch(_ptxPpoLoss!, ((uint)N, 1u, 1u), ((uint)CudaBackend.PpoLossThreads(V), 1u, 1u), 0, p);
    }
}
