using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// Generalized advantage estimation and advantage whitening, as Cpu/Gae.cs (a reverse scan per row; not a
// gradient kernel). On CUDA: the hand-written PTX (Ptx/GaePtx.cs). On the CPU accelerator: the CPU
// backend's code over the same host memory, after the stream has drained.
public sealed partial class IlgpuBackend
{
    /// <inheritdoc/>
    public void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda)
    {
        if (_host == null)
        {
            PtxGae(advantages, returns, moments, rewards, values, mask, B, T, gamma, lambda);
            return;
        }
        _stream.Synchronize();
        _host.GaeForward(advantages, returns, moments, rewards, values, mask, B, T, gamma, lambda);
    }

    /// <inheritdoc/>
    public void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n)
    {
        if (_host == null)
        {
            PtxMaskedNormalize(x, mask, mean, scale, n);
            return;
        }
        _stream.Synchronize();
        _host.MaskedNormalize(x, mask, mean, scale, n);
    }
}
