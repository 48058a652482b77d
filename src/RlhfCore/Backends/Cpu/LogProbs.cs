using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Per-token log-probabilities and entropy of softmax(logits[n]) for the RL losses, one row per task.
// With m = max_v x[v], z[v] = x[v] − m, e[v] = exp(z[v]), S = Σ e, p = e / S, log p = z − log S:
//
//   logp[n]    = z[tok] − log S
//   dlogits   += dlogp[n] · (1[v = tok] − p[v])                          = −(dlogp/S)·e[v], then +dlogp at tok
//   entropy[n] = −Σ p log p = log S − (Σ e·z) / S
//   dlogits   += dentropy[n] · (−p[v] (log p[v] + H))                    = −(dH/S)·e[v]·(z[v] − log S + H)
//
// Gradient rule: both backwards ACCUMULATE into dlogits (the policy loss, the KL penalty and the entropy
// bonus all flow into the same logits gradient). Rows whose upstream gradient is exactly 0 (padding) are
// skipped: adding zero would change nothing. Backwards recompute m, S (and H) from the logits.
// Logits are assumed finite (a −∞ logit would make e·z = 0·∞ in the entropy).
public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void TokenLogProbsForward(Tensor logp, Tensor logits, Tensor tokens, int N, int V)
    {
        CheckTokens(tokens, N, V);
        var job = new LogProbsJob { Out = F(logp), Logits = F(logits), Tokens = I(tokens), V = V };
        Pool.For(N, ref job);
    }

    /// <inheritdoc/>
    public void TokenLogProbsBackward(Tensor dlogits, Tensor dlogp, Tensor logits, Tensor tokens, int N, int V)
    {
        CheckTokens(tokens, N, V);
        var job = new LogProbsJob { DLogits = F(dlogits), Grad = F(dlogp), Logits = F(logits), Tokens = I(tokens), V = V };
        Pool.For(N, ref job);
    }

    /// <inheritdoc/>
    public void EntropyForward(Tensor entropy, Tensor logits, int N, int V)
    {
        var job = new EntropyJob { Out = F(entropy), Logits = F(logits), V = V };
        Pool.For(N, ref job);
    }

    /// <inheritdoc/>
    public void EntropyBackward(Tensor dlogits, Tensor dentropy, Tensor logits, int N, int V)
    {
        var job = new EntropyJob { DLogits = F(dlogits), Grad = F(dentropy), Logits = F(logits), V = V };
        Pool.For(N, ref job);
    }

    private static void CheckTokens(Tensor tokens, int N, int V)
    {
        int* tk = I(tokens);
        for (int n = 0; n < N; n++)
            if ((uint)tk[n] >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(tokens), tk[n], $"log-probs: tokens[{n}] = {tk[n]} is outside [0, {V})");
    }

    /// <summary>Forward when <see cref="Out"/> is set, backward (accumulating) when <see cref="DLogits"/> is.</summary>
    [SkipLocalsInit]
    private struct LogProbsJob : IParallelJob
    {
        public float* Out, DLogits, Grad, Logits;
        public int* Tokens;
        public int V;

        public void Execute(int n)
        {
            float* x = Logits + (long)n * V;
            int tok = Tokens[n];
            if (Out != null)
            {
                float m = SoftmaxRow.Max(x, V);
                Out[n] = (x[tok] - m) - MathF.Log(SoftmaxRow.SumExp(x, V, m, null));
                return;
            }
            float g = Grad[n];
            if (g == 0f) return;
            float mx = SoftmaxRow.Max(x, V);
            float s = SoftmaxRow.SumExp(x, V, mx, null);
            float* d = DLogits + (long)n * V;
            float* e = stackalloc float[SoftmaxRow.Chunk];
            for (int c = 0; c < V; c += SoftmaxRow.Chunk)
            {
                int len = Math.Min(SoftmaxRow.Chunk, V - c);
                var es = new Span<float>(e, len);
                var ds = new Span<float>(d + c, len);
                TensorPrimitives.Subtract(new ReadOnlySpan<float>(x + c, len), mx, es);
                TensorPrimitives.Exp(es, es);
                TensorPrimitives.MultiplyAdd(es, -g / s, ds, ds);
            }
            d[tok] += g;
        }
    }

    /// <summary>Forward when <see cref="Out"/> is set, backward (accumulating) when <see cref="DLogits"/> is.</summary>
    [SkipLocalsInit]
    private struct EntropyJob : IParallelJob
    {
        public float* Out, DLogits, Grad, Logits;
        public int V;

        public void Execute(int n)
        {
            float* x = Logits + (long)n * V;
            if (Out != null)
            {
                Out[n] = Entropy(x, V, out _, out _);
                return;
            }
            float g = Grad[n];
            if (g == 0f) return;
            float h = Entropy(x, V, out float m, out float s);
            float bias = h - MathF.Log(s);
            float* d = DLogits + (long)n * V;
            float* z = stackalloc float[SoftmaxRow.Chunk];
            float* e = stackalloc float[SoftmaxRow.Chunk];
            for (int c = 0; c < V; c += SoftmaxRow.Chunk)
            {
                int len = Math.Min(SoftmaxRow.Chunk, V - c);
                var zs = new Span<float>(z, len);
                var es = new Span<float>(e, len);
                var ds = new Span<float>(d + c, len);
                TensorPrimitives.Subtract(new ReadOnlySpan<float>(x + c, len), m, zs);
                TensorPrimitives.Exp(zs, es);
                TensorPrimitives.Add(zs, bias, zs);         // log p + H
                TensorPrimitives.Multiply(zs, es, zs);      // e·(log p + H)
                TensorPrimitives.MultiplyAdd(zs, -g / s, ds, ds);
            }
        }

        private static float Entropy(float* x, int v, out float m, out float s)
        {
            m = SoftmaxRow.Max(x, v);
            s = SoftmaxRow.SumExpAndEz(x, v, m, out float ez);
            return MathF.Log(s) - ez / s;
        }
    }
}
