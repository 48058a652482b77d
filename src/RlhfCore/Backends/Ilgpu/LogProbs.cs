using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the log-probability and entropy kernels.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LogProbsParams
{
    public int N, V;
}

// Per-token log-probabilities and entropy of softmax(logits[n]) for the RL losses, as Cpu/LogProbs.cs.
// With m = max x, z = x − m, e = exp z, S = Σ e, p = e/S, log p = z − log S:
//   TokenLogProbsForward    logp[n]    = z[tok] − log S
//   TokenLogProbsBackward   dlogits   += dlogp[n]·(1[v = tok] − p[v])
//   EntropyForward          entropy[n] = log S − (Σ e·z)/S
//   EntropyBackward         dlogits   += dH[n]·(−p[v]·(log p[v] + H))  = −(dH/S)·e·(z − log S + H)
// Gradient rule: both backwards ACCUMULATE into dlogits (policy loss, KL penalty and entropy bonus share
// it). Rows whose upstream gradient is exactly 0 (padding) are skipped. Backwards recompute m, S (and H).
// A token outside [0, V) gives NaN (the CPU backend checks ids on the host).
// Launch: one group per row, grid-stride over rows.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams> _logProbsForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams> _logProbsBackward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams> _entropyForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams> _entropyBackward = null!;

    private void LoadLogProbsKernels()
    {
        _logProbsForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams>(LogProbsForwardKernel, s));
        _logProbsBackward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams>(LogProbsBackwardKernel, s));
        _entropyForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams>(EntropyForwardKernel, s));
        _entropyBackward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, LogProbsParams>(EntropyBackwardKernel, s));
    }

    /// <summary>Group-wide Σ e·z of a row given its max m (for the entropy).</summary>
    private static float RowSumEz(ArrayView<float> x, long row, int V, float m)
    {
        float l = 0f;
        for (int i = Group.IdxX; i < V; i += Group.DimX)
        {
            float z = x[row + i] - m;
            l += XMath.Exp(z) * z;
        }
        return GroupExtensions.AllReduce<float, AddFloat>(l);
    }

    internal static void LogProbsForwardKernel(ArrayView<float> logp, ArrayView<float> logits, ArrayView<int> tokens, ArrayView<float> unused, LogProbsParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            long row = (long)n * p.V;
            int tok = tokens[n];
            RowSoftmaxStats(logits, row, p.V, out float m, out float s);
            if (Group.IsFirstThread) logp[n] = tok >= 0 && tok < p.V ? (logits[row + tok] - m) - XMath.Log(s) : float.NaN;
        }
    }

    internal static void LogProbsBackwardKernel(ArrayView<float> dlogits, ArrayView<float> logits, ArrayView<int> tokens, ArrayView<float> dlogp, LogProbsParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            float g = dlogp[n];
            if (g == 0f) continue;
            long row = (long)n * p.V;
            int tok = tokens[n];
            RowSoftmaxStats(logits, row, p.V, out float m, out float s);
            float k = -g / s;
            bool bad = tok < 0 || tok >= p.V;
            for (int i = Group.IdxX; i < p.V; i += Group.DimX)
            {
                float v = k * XMath.Exp(logits[row + i] - m);
                if (i == tok) v += g;
                dlogits[row + i] += bad ? float.NaN : v;
            }
        }
    }

    internal static void EntropyForwardKernel(ArrayView<float> entropy, ArrayView<float> logits, ArrayView<int> unused, ArrayView<float> unusedGrad, LogProbsParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            long row = (long)n * p.V;
            RowSoftmaxStats(logits, row, p.V, out float m, out float s);
            float ez = RowSumEz(logits, row, p.V, m);
            if (Group.IsFirstThread) entropy[n] = XMath.Log(s) - ez / s;
        }
    }

    internal static void EntropyBackwardKernel(ArrayView<float> dlogits, ArrayView<float> logits, ArrayView<int> unused, ArrayView<float> dentropy, LogProbsParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            float g = dentropy[n];
            if (g == 0f) continue;
            long row = (long)n * p.V;
            RowSoftmaxStats(logits, row, p.V, out float m, out float s);
            float ez = RowSumEz(logits, row, p.V, m);
            float logS = XMath.Log(s), h = logS - ez / s, k = -g / s;
            for (int i = Group.IdxX; i < p.V; i += Group.DimX)
            {
                float z = logits[row + i] - m;
                dlogits[row + i] += k * XMath.Exp(z) * (z - logS + h);
            }
        }
    }

    /// <inheritdoc/>
    public void TokenLogProbsForward(Tensor logp, Tensor logits, Tensor tokens, int N, int V)
    {
        if (N == 0) return;
        _logProbsForward(_stream, Rows(N), View(logp), View(logits), Ints(tokens), View(Tensor.None), new LogProbsParams { N = N, V = V });
    }

    /// <inheritdoc/>
    public void TokenLogProbsBackward(Tensor dlogits, Tensor dlogp, Tensor logits, Tensor tokens, int N, int V)
    {
        if (N == 0) return;
        _logProbsBackward(_stream, Rows(N), View(dlogits), View(logits), Ints(tokens), View(dlogp), new LogProbsParams { N = N, V = V });
    }

    /// <inheritdoc/>
    public void EntropyForward(Tensor entropy, Tensor logits, int N, int V)
    {
        if (N == 0) return;
        _entropyForward(_stream, Rows(N), View(entropy), View(logits), Ints(Tensor.None), View(Tensor.None), new LogProbsParams { N = N, V = V });
    }

    /// <inheritdoc/>
    public void EntropyBackward(Tensor dlogits, Tensor dentropy, Tensor logits, int N, int V)
    {
        if (N == 0) return;
        _entropyBackward(_stream, Rows(N), View(dlogits), View(logits), Ints(Tensor.None), View(dentropy), new LogProbsParams { N = N, V = V });
    }
}
