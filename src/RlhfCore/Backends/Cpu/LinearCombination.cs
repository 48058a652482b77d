using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// output = α·x + β·y over n elements, elementwise (one FMA, the same in the vector body and the scalar tail).
// Not a gradient kernel: Muon's momentum, Nesterov look-ahead and Newton–Schulz combinations are built from it.
// output may alias x or y.

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void LinearCombination(Tensor output, Tensor x, Tensor y, float alpha, float beta, long n) =>
        Elementwise.Binary(Pool, new LinearCombinationOp(alpha, beta), F(output), F(x), F(y), n);

    /// <summary>α·x + β·y.</summary>
    private readonly struct LinearCombinationOp(float alpha, float beta) : IBinaryOperator
    {
        private readonly float _alpha = alpha, _beta = beta;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Invoke(float x, float y) => MathF.FusedMultiplyAdd(_alpha, x, _beta * y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Invoke(Vector256<float> x, Vector256<float> y) =>
            Vector256.FusedMultiplyAdd(Vector256.Create(_alpha), x, Vector256.Create(_beta) * y);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Invoke(Vector512<float> x, Vector512<float> y) =>
            Vector512.FusedMultiplyAdd(Vector512.Create(_alpha), x, Vector512.Create(_beta) * y);
    }
}
