// PPO clipped surrogate loss, fused over the vocabulary (forward and backward in one call).
//
// Per token row n (logits x[0..V), action a, old log-prob o, advantage A, weight w, clip ε, entropy coef c):
//   m = max x,  s = Σ e^(x−m),  t = Σ e^(x−m)·(x−m),  log s = ln s
//   logp   = x[a] − m − log s                  (log softmax at the action)
//   H      = log s − t/s                       (= −Σ p log p, computed on shifted logits: no cancellation)
//   r      = e^(logp − o)
//   pg     = max(−A·r, −A·clamp(r, 1−ε_low, 1+ε_high)); clipped = 1 when the clipped term is strictly larger
//   dual clip (c_d > 0, A < 0): pg = min(pg, −A·c_d); clipped = 2 when −A·c_d is strictly smaller
//   loss   = pg − c·H
// (verl's compute_policy_loss: cliprange_low/high and clip_ratio_c; DAPO's clip-higher; Ye et al.'s dual
// clip. With c_d > 1 the two clips exclude each other: the dual clip needs r > c_d > 1, the lower clip r < 1−ε_low.)
// Gradient (overwrites dlogits; it is the activation gradient of Σₙ wₙ·lossₙ):
//   g = ∂pg/∂logp = clipped ≠ 0 ? 0 : −A·r   (ties go to the unclipped branch, as PyTorch's max/min + clamp)
//   ∂logp/∂x_v = 1[v=a] − p_v,   ∂H/∂x_v = −p_v·(log p_v + H)
//   dlogits[v] = w·g·1[v=a] + p_v·(α·log p_v + β),  α = w·c,  β = w·(c·H − g)
// A row with w = 0 gets an exactly zero gradient row. dlogits may alias logits: x[a] is read before any
// write, and each element is read just before it is overwritten.
//
// Layout of the work: one pool task per row; within a row three sweeps (max, sums, gradient). The row
// (V·4 bytes, 200 KB for GPT-2) stays in L2 between sweeps, so a separate max sweep is cheaper than an
// online max, which would need a second exp per element. Each row is reduced by one thread in a fixed
// order, so results do not depend on the thread count.
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipLow, float clipHigh, float dualClip, float entropyCoef)
    {
        int* act = I(actions);
        for (int n = 0; n < N; n++)
            if ((uint)act[n] >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(actions), act[n],
                    $"PPO loss: action of token row {n} is {act[n]}, outside the vocabulary [0, {V}); give padding rows a valid token and weight 0");
        var job = new PpoLossJob
        {
            DLogits = F(dlogits), Losses = F(losses), Logp = F(logp), Entropy = F(entropy), Clipped = F(clipped),
            Logits = F(logits), Actions = act, OldLogp = F(oldLogp), Advantages = F(advantages), Weights = F(weights),
            V = V, ClipLow = clipLow, ClipHigh = clipHigh, DualClip = dualClip, EntropyCoef = entropyCoef,
        };
        Pool.For(N, ref job);
    }

    private struct PpoLossJob : IParallelJob
    {
        public float* DLogits, Losses, Logp, Entropy, Clipped, Logits, OldLogp, Advantages, Weights;
        public int* Actions;
        public int V;
        public float ClipLow, ClipHigh, DualClip, EntropyCoef;

        public void Execute(int n)
        {
            float* x = Logits + (long)n * V;
            float* d = DLogits + (long)n * V;
            float m = TensorPrimitives.Max(new ReadOnlySpan<float>(x, V));
            (float s, float t) = SumExpShifted(x, V, m);
            float logS = MathF.Log(s);
            int a = Actions[n];
            float logpA = x[a] - m - logS; // read before the gradient sweep may overwrite x (aliasing)
            float h = logS - t / s;
            float ratio = MathF.Exp(logpA - OldLogp[n]);
            float adv = Advantages[n];
            float pg1 = -adv * ratio;
            float pg2 = -adv * MathF.Min(MathF.Max(ratio, 1f - ClipLow), 1f + ClipHigh);
            bool isClipped = pg2 > pg1;
            float pg = isClipped ? pg2 : pg1;
            float pg3 = -adv * DualClip;
            bool isDual = DualClip > 0f && adv < 0f && pg > pg3;
            float g = isClipped || isDual ? 0f : pg1;

            Logp[n] = logpA;
            Entropy[n] = h;
            Clipped[n] = isDual ? 2f : isClipped ? 1f : 0f;
            Losses[n] = (isDual ? pg3 : pg) - EntropyCoef * h;

            float w = Weights[n];
            if (w == 0f)
            {
                new Span<float>(d, V).Clear();
                return;
            }
            WriteGradient(d, x, V, m + logS, w * EntropyCoef, w * (EntropyCoef * h - g));
            d[a] += w * g;
        }

        /// <summary>(Σ e^(x−m), Σ e^(x−m)·(x−m)) over the row.</summary>
        private static (float, float) SumExpShifted(float* x, int V, float m)
        {
            var vm = Vector512.Create(m);
            var vs = Vector512<float>.Zero;
            var vt = Vector512<float>.Zero;
            int i = 0;
            for (; i <= V - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var z = Vector512.Load(x + i) - vm;
                var e = Vector512.Exp(z);
                vs += e;
                vt = Vector512.FusedMultiplyAdd(e, z, vt);
            }
            float s = Vector512.Sum(vs), t = Vector512.Sum(vt);
            for (; i < V; i++)
            {
                float z = x[i] - m;
                float e = MathF.Exp(z);
                s += e;
                t = MathF.FusedMultiplyAdd(e, z, t);
            }
            return (s, t);
        }

        /// <summary>d[v] = p_v·(α·log p_v + β) with log p_v = x[v] − lse; d may alias x.</summary>
        private static void WriteGradient(float* d, float* x, int V, float lse, float alpha, float beta)
        {
            var vl = Vector512.Create(lse);
            var va = Vector512.Create(alpha);
            var vb = Vector512.Create(beta);
            int i = 0;
            for (; i <= V - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var u = Vector512.Load(x + i) - vl;
                (Vector512.Exp(u) * Vector512.FusedMultiplyAdd(va, u, vb)).Store(d + i);
            }
            for (; i < V; i++)
            {
                float u = x[i] - lse;
                d[i] = MathF.Exp(u) * MathF.FusedMultiplyAdd(alpha, u, beta);
            }
        }
    }
}
