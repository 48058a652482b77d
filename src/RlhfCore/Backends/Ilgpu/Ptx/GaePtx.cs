using RlhfCore.Backends.Cuda;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

// GAE and advantage whitening on CUDA: kernels/ptx/gae.ptx (gae_scan: one warp per row, 8 rows per CTA,
// per-CTA moment partials in double; gae_moments: one warp sums them in a fixed order; masked_normalize),
// launched in ILGPU's context on ILGPU's stream. Parameter structs and launch shapes as the NVRTC backend's.
public sealed partial class IlgpuBackend
{
    private const int PtxGaeMaxBlocks = 1024;

    private void PtxGae(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda)
    {
        int blocks = Math.Clamp((B + 7) / 8, 1, PtxGaeMaxBlocks);
        nint partials = ScratchPointer(blocks * 3 * sizeof(double));
        Ptx.Launch(_ptxGaeScan!, ((uint)blocks, 1u, 1u), (256u, 1u, 1u), 0, new GaeParams
        {
            Advantages = advantages.Address, Returns = returns.Address, Rewards = rewards.Address, Values = values.Address,
            Mask = mask.Address, Partials = partials, B = B, T = T, Gamma = gamma, Lambda = lambda,
        });
        Ptx.Launch(_ptxGaeMoments!, (1u, 1u, 1u), (32u, 1u, 1u), 0, new GaeMomentsParams { Moments = moments.Address, Partials = partials, Count = blocks });
    }

    private void PtxMaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n)
    {
        uint blocks = (uint)Math.Clamp((n + 255) / 256, 0, 4096);
        Ptx.Launch(_ptxMaskedNormalize!, (blocks, 1u, 1u), (256u, 1u, 1u), 0,
            new MaskedNormalizeParams { X = x.Address, Mask = mask.Address, N = n, Mean = mean, Scale = scale });
    }
}
