using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// PPO clipped loss fused over the vocabulary, as Cpu/PpoLoss.cs (the math and gradient rule are stated
// there and on IBackend.PpoLossForwardBackward: dlogits is OVERWRITTEN with the gradient of Σ w·loss).
// On CUDA: the hand-written PTX (Ptx/PpoLossPtx.cs). On the CPU accelerator: the CPU backend's code over the
// same host memory, after the stream has drained.
public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipLow, float clipHigh, float dualClip, float entropyCoef)
    {
        if (V <= 0) throw new ArgumentOutOfRangeException(nameof(V), V, "PPO loss: the vocabulary must be non-empty");
        if (_host == null)
        {
            PtxPpoLoss(dlogits, losses, logp, entropy, clipped, logits, actions, oldLogp, advantages, weights, N, V, clipLow, clipHigh, dualClip, entropyCoef);
            return;
        }
        _stream.Synchronize();
        _host.PpoLossForwardBackward(dlogits, losses, logp, entropy, clipped, logits, actions, oldLogp, advantages, weights, N, V, clipLow, clipHigh, dualClip, entropyCoef);
    }
}
