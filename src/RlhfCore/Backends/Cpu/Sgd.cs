using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// SGD with momentum (torch.optim.SGD, dampening 0), one step over n elements, elementwise:
//   g   = gradScale·grad + weightDecay·param        (L2 decay, added to the gradient as PyTorch does)
//   buf = momentum·buf + g                          (buf starts at 0, so the first step gives buf = g)
//   d   = nesterov ? g + momentum·buf : buf
//   param −= lr·d
// momentum = 0 is plain SGD. param and buf are updated in place; grad is read only. The scalar tail uses
// the same FMAs as the vector body, so an element's result does not depend on where it falls.

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void SgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, long n, float lr, float momentum, float weightDecay, float gradScale, bool nesterov)
    {
        var op = new SgdOp(lr, momentum, weightDecay, gradScale, bufCoef: nesterov ? momentum : 1f, gradCoef: nesterov ? 1f : 0f);
        Elementwise.StateUpdate1(Pool, op, F(param), F(momentumBuffer), F(grad), n);
    }

    /// <summary>
    /// The SGD step for (param, buf) from grad. Heavy-ball and Nesterov are one expression,
    /// d = bufCoef·buf + gradCoef·g: (1, 0) for heavy-ball, (momentum, 1) for Nesterov.
    /// </summary>
    private readonly struct SgdOp(float lr, float momentum, float weightDecay, float gradScale, float bufCoef, float gradCoef)
        : IStateUpdate1Operator
    {
        private readonly float _lr = lr, _momentum = momentum, _weightDecay = weightDecay, _gradScale = gradScale;
        private readonly float _bufCoef = bufCoef, _gradCoef = gradCoef;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref float p, ref float buf, float grad)
        {
            float g = MathF.FusedMultiplyAdd(_weightDecay, p, _gradScale * grad);
            buf = MathF.FusedMultiplyAdd(_momentum, buf, g);
            p -= _lr * MathF.FusedMultiplyAdd(_bufCoef, buf, _gradCoef * g);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector256<float> p, ref Vector256<float> buf, Vector256<float> grad)
        {
            Vector256<float> g = Vector256.FusedMultiplyAdd(Vector256.Create(_weightDecay), p, Vector256.Create(_gradScale) * grad);
            buf = Vector256.FusedMultiplyAdd(Vector256.Create(_momentum), buf, g);
            p -= Vector256.Create(_lr) * Vector256.FusedMultiplyAdd(Vector256.Create(_bufCoef), buf, Vector256.Create(_gradCoef) * g);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Invoke(ref Vector512<float> p, ref Vector512<float> buf, Vector512<float> grad)
        {
            Vector512<float> g = Vector512.FusedMultiplyAdd(Vector512.Create(_weightDecay), p, Vector512.Create(_gradScale) * grad);
            buf = Vector512.FusedMultiplyAdd(Vector512.Create(_momentum), buf, g);
            p -= Vector512.Create(_lr) * Vector512.FusedMultiplyAdd(Vector512.Create(_bufCoef), buf, Vector512.Create(_gradCoef) * g);
        }
    }
}
