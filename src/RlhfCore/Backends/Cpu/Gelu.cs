using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// GELU, tanh form (GPT-2's "gelu_new"):
//   gelu(x)  = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
// Computed through the identity 0.5·(1 + tanh u) = σ(2u) = 1 / (1 + e^(−2u)), which needs one exp and no
// cancellation near u = 0 (1 + tanh u loses digits there), and 1 − tanh² u = 4·σ(2u)·(1 − σ(2u)):
//   gelu(x)  = x·s,   gelu'(x) = s + x·s·(1 − s)·2√(2/π)·(1 + 0.134145·x²),   s = σ(2u)
// Gradient rule: dinp = gelu'(inp)·dout, overwrites (GELU's input is not a residual branch point).

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void GeluForward(Tensor output, Tensor inp, long n) =>
        Elementwise.Unary(Pool, new GeluForwardOp(), F(output), F(inp), n);

    /// <inheritdoc/>
    public void GeluBackward(Tensor dinp, Tensor inp, Tensor dout, long n) =>
        Elementwise.Binary(Pool, new GeluBackwardOp(), F(dinp), F(inp), F(dout), n);

    /// <summary>2·√(2/π): e^(−2u) = e^(x·(−K − K·0.044715·x²)).</summary>
    private const float GeluK = 1.5957691216057308f;
    private const float GeluKCubic = GeluK * 0.044715f;

    /// <summary>gelu(x) = x / (1 + e^(−2u)).</summary>
    private readonly struct GeluForwardOp : IUnaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x) => x / (1f + MathF.Exp(x * MathF.FusedMultiplyAdd(-GeluKCubic, x * x, -GeluK)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x) =>
            x / (Vector256<float>.One + Vector256.Exp(x * Vector256.FusedMultiplyAdd(Vector256.Create(-GeluKCubic), x * x, Vector256.Create(-GeluK))));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x) =>
            x / (Vector512<float>.One + Vector512.Exp(x * Vector512.FusedMultiplyAdd(Vector512.Create(-GeluKCubic), x * x, Vector512.Create(-GeluK))));
    }

    /// <summary>(x, dout) ↦ gelu'(x)·dout.</summary>
    private readonly struct GeluBackwardOp : IBinaryOperator
    {
        private const float Cubic3 = 3f * 0.044715f;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x, float dout)
        {
            float x2 = x * x;
            float s = 1f / (1f + MathF.Exp(x * MathF.FusedMultiplyAdd(-GeluKCubic, x2, -GeluK)));
            float slope = x * s * (1f - s) * (GeluK * MathF.FusedMultiplyAdd(Cubic3, x2, 1f));
            return (s + slope) * dout;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> dout)
        {
            Vector256<float> one = Vector256<float>.One, x2 = x * x;
            Vector256<float> s = one / (one + Vector256.Exp(x * Vector256.FusedMultiplyAdd(Vector256.Create(-GeluKCubic), x2, Vector256.Create(-GeluK))));
            Vector256<float> slope = x * s * (one - s) * (Vector256.Create(GeluK) * Vector256.FusedMultiplyAdd(Vector256.Create(Cubic3), x2, one));
            return (s + slope) * dout;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> dout)
        {
            Vector512<float> one = Vector512<float>.One, x2 = x * x;
            Vector512<float> s = one / (one + Vector512.Exp(x * Vector512.FusedMultiplyAdd(Vector512.Create(-GeluKCubic), x2, Vector512.Create(-GeluK))));
            Vector512<float> slope = x * s * (one - s) * (Vector512.Create(GeluK) * Vector512.FusedMultiplyAdd(Vector512.Create(Cubic3), x2, one));
            return (s + slope) * dout;
        }
    }
}
