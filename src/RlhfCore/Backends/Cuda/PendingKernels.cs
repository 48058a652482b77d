using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

// TEMPORARY: stubs for the ops whose CUDA kernels are being written elsewhere (the PPO loss in PpoLoss.cs,
// GAE and whitening in Gae.cs). The integrator deletes this
// file when merging those. BackendSelfTest reports these ops as "not implemented".
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipEps, float entropyCoef) =>
        throw new NotImplementedException("CUDA PpoLossForwardBackward: pending (kernels/ptx/ppo_loss.ptx)");

    /// <inheritdoc/>
    public void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda) =>
        throw new NotImplementedException("CUDA GaeForward: pending (kernels/ptx/gae.ptx)");

    /// <inheritdoc/>
    public void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n) =>
        throw new NotImplementedException("CUDA MaskedNormalize: pending (kernels/ptx/gae.ptx)");
}
