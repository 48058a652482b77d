using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

// TEMPORARY: stubs for the ops whose CUDA kernels are being written elsewhere (fused attention PTX in
// Attention.cs, the PPO loss in PpoLoss.cs, GAE and whitening in Gae.cs). The integrator deletes this
// file when merging those. BackendSelfTest reports these ops as "not implemented".
public sealed partial class CudaBackend
{
    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH) =>
        throw new NotImplementedException("CUDA AttentionForward: pending (kernels/ptx/attention_*.ptx)");

    /// <inheritdoc/>
    public void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH) =>
        throw new NotImplementedException("CUDA AttentionBackward: pending (kernels/ptx/attention_*.ptx)");

    /// <inheritdoc/>
    public void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT) =>
        throw new NotImplementedException("CUDA AttentionDecodeForward: pending (kernels/ptx/attention_*.ptx)");

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
