using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

// Matmul with bias: out[N, OC] = inp[N, C] · weight[OC, C]ᵀ + bias[OC].
// Gradient rule: dweight and dbias accumulate (+=, parameter gradients); dinp overwrites (=), or
// accumulates when the caller asks (accumulateDinp: the residual stream, or two heads on one trunk).
// All three products are one blocked GEMM (Gemm.cs) with different strides:
//   forward  out   = inp  · Wᵀ   A = inp [N, C],    B[k=c, j=oc] = W[oc, c]
//   backward dinp  = dout · W    A = dout[N, OC],   B[k=oc, j=c] = W[oc, c]
//   backward dW   += doutᵀ· inp  A[m=oc, k=n] = dout[n, oc],  B = inp[N, C]
public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void MatmulForward(Tensor output, Tensor inp, Tensor weight, Tensor bias, int N, int C, int OC)
    {
        float* b = bias.IsNone ? null : F(bias);
        if (N < GemmDot.Threshold || OC < GemmDot.Threshold)
            GemmDot.Run(Pool, F(output), F(inp), F(weight), b, N, C, OC);
        else
            Gemm.Run(Pool, N, OC, C, F(inp), C, 1, F(weight), 1, C, F(output), OC, accumulate: false, b);
    }

    /// <inheritdoc/>
    public void MatmulBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, int N, int C, int OC, bool accumulateDinp = false)
    {
        if (!dinp.IsNone)
            Gemm.Run(Pool, N, C, OC, F(dout), OC, 1, F(weight), C, 1, F(dinp), C, accumulateDinp, null);
        Gemm.Run(Pool, OC, C, N, F(dout), 1, OC, F(inp), C, 1, F(dweight), C, accumulate: true, null);
        if (!dbias.IsNone)
        {
            var job = new BiasGradJob { Dbias = F(dbias), Dout = F(dout), N = N, OC = OC };
            Pool.For((OC + BiasGradJob.Block - 1) / BiasGradJob.Block, ref job);
        }
    }

    /// <summary>dbias[oc] += Σₙ dout[n, oc] over a block of columns, summed in row order.</summary>
    private struct BiasGradJob : IParallelJob
    {
        public const int Block = 256;
        public float* Dbias, Dout;
        public int N, OC;

        public readonly void Execute(int t)
        {
            int oc0 = t * Block, width = Math.Min(Block, OC - oc0);
            Span<float> sum = stackalloc float[Block];
            sum = sum[..width];
            sum.Clear();
            for (int n = 0; n < N; n++)
                TensorPrimitives.Add(sum, new ReadOnlySpan<float>(Dout + (long)n * OC + oc0, width), sum);
            var db = new Span<float>(Dbias + oc0, width);
            TensorPrimitives.Add(db, sum, db);
        }
    }
}
