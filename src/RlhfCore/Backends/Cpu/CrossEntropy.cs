using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Fused softmax + cross-entropy (llm.c's fused classifier), one row n of logits[N, V] per task:
//
//   m = max_v x[v],   S = Σ_v exp(x[v] − m),   p[v] = exp(x[v] − m) / S
//   losses[n]     = −log p[target] = log S − (x[target] − m)
//   dlogits[n, v] = w[n] · (p[v] − 1[v = target])          (when dlogits is not None)
//
// target = −1 is ignored: loss 0 and a zero dlogits row. weights None means w = 1.
// dlogits may alias logits: the row's max and x[target] are read before the row is overwritten, and the
// exponentials are elementwise, so they are written in place and then scaled by w / S.
// Gradient rule: dlogits is an activation gradient and is overwritten.
public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor dlogits, Tensor logits, Tensor targets, Tensor weights, int N, int V)
    {
        if (V < 1) throw new ArgumentOutOfRangeException(nameof(V), V, "vocabulary size must be positive");
        int* tg = I(targets);
        for (int n = 0; n < N; n++)
        {
            int t = tg[n];
            if (t < -1 || t >= V)
                throw new ArgumentOutOfRangeException(nameof(targets), t, $"cross-entropy: targets[{n}] = {t} is outside [-1, {V}) (−1 means ignored)");
        }
        var job = new CrossEntropyJob
        {
            Losses = F(losses), DLogits = dlogits.IsNone ? null : F(dlogits), Logits = F(logits),
            Targets = tg, Weights = weights.IsNone ? null : F(weights), V = V,
        };
        Pool.For(N, ref job);
    }

    private struct CrossEntropyJob : IParallelJob
    {
        public float* Losses, DLogits, Logits, Weights;
        public int* Targets;
        public int V;

        public void Execute(int n)
        {
            float* x = Logits + (long)n * V;
            float* d = DLogits == null ? null : DLogits + (long)n * V;
            int target = Targets[n];
            if (target < 0)
            {
                Losses[n] = 0f;
                if (d != null) new Span<float>(d, V).Clear();
                return;
            }
            float m = SoftmaxRow.Max(x, V);
            float xt = x[target];
            float s = SoftmaxRow.SumExp(x, V, m, d);
            Losses[n] = MathF.Log(s) - (xt - m);
            if (d == null) return;
            float w = Weights == null ? 1f : Weights[n];
            var row = new Span<float>(d, V);
            TensorPrimitives.Multiply(row, w / s, row);
            d[target] -= w;
        }
    }
}
