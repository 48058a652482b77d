using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors LogProbsParams in kernels/cuda/logprobs.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LogProbsParams
{
    public nint Out, Logits, Tokens, Grad;
    public int N, V;
}

// Per-token log-probabilities and entropy (kernels/cuda/logprobs.cu); both backwards accumulate into dlogits.
public sealed partial class CudaBackend
{
    private CudaKernel? _logpForward, _logpBackward, _entropyForward, _entropyBackward;

    /// <inheritdoc/>
    public void TokenLogProbsForward(Tensor logp, Tensor logits, Tensor tokens, int N, int V) =>
        LaunchRows(_logpForward ??= Kernel("logprobs", "logprobs_forward"), N, V,
            new LogProbsParams { Out = logp.Address, Logits = logits.Address, Tokens = tokens.Address, N = N, V = V });

    /// <inheritdoc/>
    public void TokenLogProbsBackward(Tensor dlogits, Tensor dlogp, Tensor logits, Tensor tokens, int N, int V) =>
        LaunchRows(_logpBackward ??= Kernel("logprobs", "logprobs_backward"), N, V,
            new LogProbsParams { Out = dlogits.Address, Logits = logits.Address, Tokens = tokens.Address, Grad = dlogp.Address, N = N, V = V });

    /// <inheritdoc/>
    public void EntropyForward(Tensor entropy, Tensor logits, int N, int V) =>
        LaunchRows(_entropyForward ??= Kernel("logprobs", "entropy_forward"), N, V,
            new LogProbsParams { Out = entropy.Address, Logits = logits.Address, N = N, V = V });

    /// <inheritdoc/>
    public void EntropyBackward(Tensor dlogits, Tensor dentropy, Tensor logits, int N, int V) =>
        LaunchRows(_entropyBackward ??= Kernel("logprobs", "entropy_backward"), N, V,
            new LogProbsParams { Out = dlogits.Address, Logits = logits.Address, Grad = dentropy.Address, N = N, V = V });

    private void LaunchRows(CudaKernel k, int N, int V, in LogProbsParams p)
    {
        if (V < 1) throw new ArgumentOutOfRangeException(nameof(V), V, "vocabulary size must be positive");
        Launch(k, ((uint)N, 1, 1), Block1D(Math.Min(512, RowThreads(V))), 0, p);
    }
}
