using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// AdamW (Loshchilov & Hutter), one step t ≥ 1 over n elements, elementwise:
//   g  = gradScale·grad
//   m  = β1·m + (1 − β1)·g                 v = β2·v + (1 − β2)·g²
//   m̂  = m / (1 − β1ᵗ)                     v̂ = v / (1 − β2ᵗ)
//   param −= lr·(m̂ / (√v̂ + eps) + weightDecay·param)
// The weight decay is decoupled and uses the parameter from before this step, so this equals PyTorch's
// order (param *= 1 − lr·weightDecay, then the Adam step with step size lr/(1 − β1ᵗ) and denominator
// √v/√(1 − β2ᵗ) + eps) up to float rounding. Bias corrections are computed once per call in double.
// param, m and v are updated in place; grad is read only. The scalar tail uses the same FMAs as the vector
// body, so an element's result does not depend on where it falls.
// AdamWUpdateWithStatistics runs the same operator as a statistics source (OptimizerStatistics.cs): each element is
// loaded, updated and stored once, and the statistics see the parameter before and after, g, and m and v after.

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void AdamWUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        Elementwise.StateUpdate(Pool, NewAdamWOp(lr, beta1, beta2, eps, weightDecay, gradScale, step), F(param), F(m), F(v), F(grad), n);
    }

    /// <inheritdoc/>
    public void AdamWUpdateWithStatistics(Tensor stats, Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps,
        float weightDecay, float gradScale, int step, float vThreshold)
    {
        var op = NewAdamWOp(lr, beta1, beta2, eps, weightDecay, gradScale, step);
        RunStatistics(new AdamWStatistics { Op = op, P = F(param), M = F(m), V = F(v), G = F(grad), GradScale = gradScale }, F(stats), n, vThreshold);
    }

    private static AdamWOp NewAdamWOp(float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "AdamW steps count from 1 (bias correction 1 − βᵗ would be 0)");
        return new AdamWOp(lr, beta1, beta2, eps, weightDecay, gradScale,
            (float)(1.0 / (1.0 - Math.Pow(beta1, step))), (float)(1.0 / (1.0 - Math.Pow(beta2, step))));
    }

    /// <summary>The AdamW step as a statistics source: loading elements updates and stores them, and yields the values around the step.</summary>
    private struct AdamWStatistics : IStatisticsSource
    {
        public AdamWOp Op;
        public float* P, M, V, G;
        public float GradScale;

        public readonly bool HasMomentum => true;
        public readonly bool HasV => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out float g, out float p, out float previous, out float m, out float v)
        {
            float grad = G[k];
            previous = P[k]; p = previous; m = M[k]; v = V[k];
            Op.Invoke(ref p, ref m, ref v, grad);
            P[k] = p; M[k] = m; V[k] = v;
            g = GradScale * grad;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out Vector256<float> g, out Vector256<float> p, out Vector256<float> previous, out Vector256<float> m, out Vector256<float> v)
        {
            var grad = Vector256.Load(G + k);
            previous = Vector256.Load(P + k); p = previous; m = Vector256.Load(M + k); v = Vector256.Load(V + k);
            Op.Invoke(ref p, ref m, ref v, grad);
            Vector256.Store(p, P + k); Vector256.Store(m, M + k); Vector256.Store(v, V + k);
            g = Vector256.Create(GradScale) * grad;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public readonly void Load(long k, out Vector512<float> g, out Vector512<float> p, out Vector512<float> previous, out Vector512<float> m, out Vector512<float> v)
        {
            var grad = Vector512.Load(G + k);
            previous = Vector512.Load(P + k); p = previous; m = Vector512.Load(M + k); v = Vector512.Load(V + k);
            Op.Invoke(ref p, ref m, ref v, grad);
            Vector512.Store(p, P + k); Vector512.Store(m, M + k); Vector512.Store(v, V + k);
            g = Vector512.Create(GradScale) * grad;
        }
    }

    /// <summary>The AdamW step for (param, m, v) from grad; holds the step's hyperparameters.</summary>
    private readonly struct AdamWOp(float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, float mHatScale, float vHatScale)
        : IStateUpdateOperator
    {
        private readonly float _lr = lr, _beta1 = beta1, _beta2 = beta2, _eps = eps, _weightDecay = weightDecay, _gradScale = gradScale;
        private readonly float _oneMinusBeta1 = 1f - beta1, _oneMinusBeta2 = 1f - beta2, _mHatScale = mHatScale, _vHatScale = vHatScale;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref float p, ref float m, ref float v, float grad)
        {
            float g = _gradScale * grad;
            m = MathF.FusedMultiplyAdd(_beta1, m, _oneMinusBeta1 * g);
            v = MathF.FusedMultiplyAdd(_beta2, v, _oneMinusBeta2 * (g * g));
            float update = m * _mHatScale / (MathF.Sqrt(v * _vHatScale) + _eps);
            p -= _lr * MathF.FusedMultiplyAdd(_weightDecay, p, update);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector256<float> p, ref Vector256<float> m, ref Vector256<float> v, Vector256<float> grad)
        {
            Vector256<float> g = Vector256.Create(_gradScale) * grad;
            m = Vector256.FusedMultiplyAdd(Vector256.Create(_beta1), m, Vector256.Create(_oneMinusBeta1) * g);
            v = Vector256.FusedMultiplyAdd(Vector256.Create(_beta2), v, Vector256.Create(_oneMinusBeta2) * (g * g));
            Vector256<float> update = m * Vector256.Create(_mHatScale) / (Vector256.Sqrt(v * Vector256.Create(_vHatScale)) + Vector256.Create(_eps));
            p -= Vector256.Create(_lr) * Vector256.FusedMultiplyAdd(Vector256.Create(_weightDecay), p, update);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector512<float> p, ref Vector512<float> m, ref Vector512<float> v, Vector512<float> grad)
        {
            Vector512<float> g = Vector512.Create(_gradScale) * grad;
            m = Vector512.FusedMultiplyAdd(Vector512.Create(_beta1), m, Vector512.Create(_oneMinusBeta1) * g);
            v = Vector512.FusedMultiplyAdd(Vector512.Create(_beta2), v, Vector512.Create(_oneMinusBeta2) * (g * g));
            Vector512<float> update = m * Vector512.Create(_mHatScale) / (Vector512.Sqrt(v * Vector512.Create(_vHatScale)) + Vector512.Create(_eps));
            p -= Vector512.Create(_lr) * Vector512.FusedMultiplyAdd(Vector512.Create(_weightDecay), p, update);
        }
    }
}
