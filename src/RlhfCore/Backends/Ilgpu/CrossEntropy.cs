using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the fused classifier kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CrossEntropyParams
{
    public int N, V, HasDLogits, HasWeights;
}

// Fused softmax + cross-entropy (llm.c's fused classifier), as Cpu/CrossEntropy.cs, one group per row n:
//   m = max x, S = Σ exp(x − m);  losses[n] = log S − (x[target] − m)
//   dlogits[n, v] = w[n]·(exp(x[v] − m)/S − 1[v = target])      (unless dlogits is None; w = 1 without weights)
// target = −1: loss 0 and a zero dlogits row. A target ≥ V (invalid; the CPU backend throws on the host)
// gives a NaN loss and row so the training loop's NaN guard stops.
// Gradient rule: dlogits is an activation gradient and is OVERWRITTEN. dlogits may alias logits: each
// element is read and written by the same thread, and x[target] is read before the reductions' barriers,
// so before any write.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, CrossEntropyParams> _crossEntropy = null!;

    private void LoadCrossEntropyKernels() =>
        _crossEntropy = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<int>, ArrayView<float>, CrossEntropyParams>(CrossEntropyKernel, s));

    /// <summary>Group-wide max m and S = Σ exp(x − m) of row x[row, row + V), returned to every thread.</summary>
    internal static void RowSoftmaxStats(ArrayView<float> x, long row, int V, out float m, out float s)
    {
        float lm = float.NegativeInfinity;
        for (int i = Group.IdxX; i < V; i += Group.DimX) lm = XMath.Max(lm, x[row + i]);
        m = GroupExtensions.AllReduce<float, MaxFloat>(lm);
        float ls = 0f;
        for (int i = Group.IdxX; i < V; i += Group.DimX) ls += XMath.Exp(x[row + i] - m);
        s = GroupExtensions.AllReduce<float, AddFloat>(ls);
    }

    internal static void CrossEntropyKernel(ArrayView<float> losses, ArrayView<float> dlogits, ArrayView<float> logits,
        ArrayView<int> targets, ArrayView<float> weights, CrossEntropyParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            long row = (long)n * p.V;
            int target = targets[n];
            if (target < 0 || target >= p.V)
            {
                float fill = target < 0 ? 0f : float.NaN;
                if (Group.IsFirstThread) losses[n] = fill;
                if (p.HasDLogits != 0)
                    for (int i = Group.IdxX; i < p.V; i += Group.DimX) dlogits[row + i] = fill;
                continue;
            }
            float xt = logits[row + target];
            RowSoftmaxStats(logits, row, p.V, out float m, out float s);
            if (Group.IsFirstThread) losses[n] = XMath.Log(s) - (xt - m);
            if (p.HasDLogits == 0) continue;
            float w = p.HasWeights != 0 ? weights[n] : 1f;
            float scale = w / s;
            for (int i = Group.IdxX; i < p.V; i += Group.DimX)
            {
                float g = XMath.Exp(logits[row + i] - m) * scale;
                dlogits[row + i] = i == target ? g - w : g;
            }
        }
    }

    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor dlogits, Tensor logits, Tensor targets, Tensor weights, int N, int V)
    {
        if (N == 0) return;
        _crossEntropy(_stream, Rows(N), View(losses), View(dlogits), View(logits), Ints(targets), View(weights),
            new CrossEntropyParams { N = N, V = V, HasDLogits = dlogits.IsNone ? 0 : 1, HasWeights = weights.IsNone ? 0 : 1 });
    }
}
