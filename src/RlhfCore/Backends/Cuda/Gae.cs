using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors the 64-byte parameter struct of <c>gae_scan</c> in kernels/ptx/gae.ptx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GaeParams
{
    public nint Advantages, Returns, Rewards, Values, Mask, Partials;
    public int B, T;
    public float Gamma, Lambda;
}

/// <summary>Mirrors the 24-byte parameter struct of <c>gae_moments</c> in kernels/ptx/gae.ptx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GaeMomentsParams
{
    public nint Moments, Partials;
    public int Count, Pad;
}

/// <summary>Mirrors the 32-byte parameter struct of <c>masked_normalize</c> in kernels/ptx/gae.ptx.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MaskedNormalizeParams
{
    public nint X, Mask;
    public long N;
    public float Mean, Scale;
}

// GAE and advantage whitening (hand-written PTX, kernels/ptx/gae.ptx); the math is Cpu/Gae.cs's.
// gae_scan: one warp per row, 8 rows per CTA (4 positions per lane with 16-byte loads when T % 4 == 0 and
// the bases are 16-byte aligned, else 1), per-CTA moment partials in double in the shared scratch;
// gae_moments: one warp sums them in a fixed order. The grid depends only on B: deterministic.
public sealed partial class CudaBackend
{
    /// <summary>Upper bound on gae_scan's CTAs (grid-stride beyond), which bounds its scratch.</summary>
    private const int GaeMaxBlocks = 1024;

    private CudaKernel? _gaeScan, _gaeMoments, _maskedNormalize;

    /// <inheritdoc/>
    public void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda)
    {
        _gaeScan ??= LoadPtxKernel("gae.ptx", "gae_scan");
        _gaeMoments ??= LoadPtxKernel("gae.ptx", "gae_moments");
        int blocks = Math.Clamp((B + 7) / 8, 1, GaeMaxBlocks);
        nint partials = Scratch(blocks * 3 * sizeof(double));
        Launch(_gaeScan, ((uint)blocks, 1, 1), Block1D(256), 0, new GaeParams
        {
            Advantages = advantages.Address, Returns = returns.Address, Rewards = rewards.Address, Values = values.Address,
            Mask = mask.Address, Partials = partials, B = B, T = T, Gamma = gamma, Lambda = lambda,
        });
        Launch(_gaeMoments, (1, 1, 1), Block1D(32), 0, new GaeMomentsParams { Moments = moments.Address, Partials = partials, Count = blocks });
    }

    /// <inheritdoc/>
    public void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n)
    {
        _maskedNormalize ??= LoadPtxKernel("gae.ptx", "masked_normalize");
        uint blocks = (uint)Math.Clamp((n + 255) / 256, 0, 4096);
        Launch(_maskedNormalize, (blocks, 1, 1), Block1D(256), 0, new MaskedNormalizeParams { X = x.Address, Mask = mask.Address, N = n, Mean = mean, Scale = scale });
    }
}
