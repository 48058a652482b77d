// Generalized advantage estimation (Schulman et al. 2016) over [B, T] rows, and advantage whitening.
//
// Per row, a reverse scan over the real positions (mask ≠ 0; masks are F32 0 or 1). For real t with
// next real position t' (none: V(t') = A(t') = 0):
//   δ_t = r_t + γ·V_{t'} − V_t,   A_t = δ_t + γλ·A_{t'},   R_t = A_t + V_t
// Masked positions get A = R = 0 and do not break the chain: left padding, right padding and holes
// mid-row are all skipped. With right padding only this is TRL's PPO loop over values and rewards
// zeroed at padding.
// Moments for whitening: (Σ mask, Σ mask·A, Σ mask·A²) over the whole batch, summed in double in index
// order after the parallel scan (B·T is small next to the model), then stored as float.
// No gradient: GAE works on rollout data that are constants for the loss.
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda)
    {
        var job = new GaeJob
        {
            Advantages = F(advantages), Returns = F(returns), Rewards = F(rewards), Values = F(values), Mask = F(mask),
            T = T, Gamma = gamma, GammaLambda = gamma * lambda,
        };
        Pool.For(B, ref job);

        float* adv = F(advantages), msk = F(mask);
        double count = 0, sum = 0, sumSq = 0;
        for (long i = 0, n = (long)B * T; i < n; i++)
        {
            double mi = msk[i], ai = adv[i];
            count += mi;
            sum += mi * ai;
            sumSq += mi * ai * ai;
        }
        float* mo = F(moments);
        mo[0] = (float)count;
        mo[1] = (float)sum;
        mo[2] = (float)sumSq;
    }

    private struct GaeJob : IParallelJob
    {
        public float* Advantages, Returns, Rewards, Values, Mask;
        public int T;
        public float Gamma, GammaLambda;

        public void Execute(int b)
        {
            long row = (long)b * T;
            float nextValue = 0f, nextAdvantage = 0f;
            for (long i = row + T - 1; i >= row; i--)
            {
                if (Mask[i] == 0f)
                {
                    Advantages[i] = 0f;
                    Returns[i] = 0f;
                    continue;
                }
                float v = Values[i];
                float delta = Rewards[i] + Gamma * nextValue - v;
                nextAdvantage = delta + GammaLambda * nextAdvantage;
                nextValue = v;
                Advantages[i] = nextAdvantage;
                Returns[i] = nextAdvantage + v;
            }
        }
    }

    /// <inheritdoc/>
    public void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n)
    {
        float* px = F(x), pm = F(mask);
        var vMean = Vector512.Create(mean);
        var vScale = Vector512.Create(scale);
        long i = 0;
        for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
        {
            var keep = ~Vector512.Equals(Vector512.Load(pm + i), Vector512<float>.Zero);
            (keep & ((Vector512.Load(px + i) - vMean) * vScale)).Store(px + i);
        }
        for (; i < n; i++) px[i] = pm[i] != 0f ? (px[i] - mean) * scale : 0f;
    }
}
