using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Residual add: out = a + b.
// Gradient rule: backward ACCUMULATES, dinp += dout: the residual stream is a branch point whose gradient
// is the sum over its uses. One call serves one input; the caller routes dout to the other input (another
// call, or by reading dout directly as that input's gradient).

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void ResidualForward(Tensor output, Tensor a, Tensor b, long n) =>
        Elementwise.Binary(Pool, new AddOp(), F(output), F(a), F(b), n);

    /// <inheritdoc/>
    public void ResidualBackward(Tensor dinp, Tensor dout, long n) =>
        Elementwise.Binary(Pool, new AddOp(), F(dinp), F(dinp), F(dout), n);

    /// <summary>x + y.</summary>
    private readonly struct AddOp : IBinaryOperator
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x, float y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) => x + y;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) => x + y;
    }
}
