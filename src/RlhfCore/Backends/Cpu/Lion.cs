using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2), one step over n
// elements, elementwise:
//   g = gradScale·grad
//   c = β1·m + (1 − β1)·g                  (the interpolation whose sign is the update)
//   param −= lr·(sign(c) + weightDecay·param)   (decoupled decay, from the parameter before this step)
//   m = β2·m + (1 − β2)·g
// sign(0) = 0 and sign(NaN) = 0, the same in the vector body and the scalar tail.

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void LionUpdate(Tensor param, Tensor grad, Tensor m, long n, float lr, float beta1, float beta2, float weightDecay, float gradScale) =>
        Elementwise.StateUpdate1(Pool, new LionOp(lr, beta1, beta2, weightDecay, gradScale), F(param), F(m), F(grad), n);

    /// <summary>The Lion step for (param, m) from grad.</summary>
    private readonly struct LionOp(float lr, float beta1, float beta2, float weightDecay, float gradScale) : IStateUpdate1Operator
    {
        private readonly float _lr = lr, _beta1 = beta1, _beta2 = beta2, _weightDecay = weightDecay, _gradScale = gradScale;
        private readonly float _oneMinusBeta1 = 1f - beta1, _oneMinusBeta2 = 1f - beta2;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref float p, ref float m, float grad)
        {
            float g = _gradScale * grad;
            float c = MathF.FusedMultiplyAdd(_beta1, m, _oneMinusBeta1 * g);
            float sign = c > 0 ? 1f : c < 0 ? -1f : 0f;
            p -= _lr * MathF.FusedMultiplyAdd(_weightDecay, p, sign);
            m = MathF.FusedMultiplyAdd(_beta2, m, _oneMinusBeta2 * g);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector256<float> p, ref Vector256<float> m, Vector256<float> grad)
        {
            Vector256<float> g = Vector256.Create(_gradScale) * grad, one = Vector256<float>.One;
            Vector256<float> c = Vector256.FusedMultiplyAdd(Vector256.Create(_beta1), m, Vector256.Create(_oneMinusBeta1) * g);
            Vector256<float> sign = (Vector256.GreaterThan(c, Vector256<float>.Zero) & one) - (Vector256.LessThan(c, Vector256<float>.Zero) & one);
            p -= Vector256.Create(_lr) * Vector256.FusedMultiplyAdd(Vector256.Create(_weightDecay), p, sign);
            m = Vector256.FusedMultiplyAdd(Vector256.Create(_beta2), m, Vector256.Create(_oneMinusBeta2) * g);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector512<float> p, ref Vector512<float> m, Vector512<float> grad)
        {
            Vector512<float> g = Vector512.Create(_gradScale) * grad, one = Vector512<float>.One;
            Vector512<float> c = Vector512.FusedMultiplyAdd(Vector512.Create(_beta1), m, Vector512.Create(_oneMinusBeta1) * g);
            Vector512<float> sign = (Vector512.GreaterThan(c, Vector512<float>.Zero) & one) - (Vector512.LessThan(c, Vector512<float>.Zero) & one);
            p -= Vector512.Create(_lr) * Vector512.FusedMultiplyAdd(Vector512.Create(_weightDecay), p, sign);
            m = Vector512.FusedMultiplyAdd(Vector512.Create(_beta2), m, Vector512.Create(_oneMinusBeta2) * g);
        }
    }
}
