using System.Numerics.Tensors;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// out[n, oc] = dot(inp[n, :], weight[oc, :]) + bias[oc], one vectorized dot product per element.
/// Used by the forward matmul when N or OC is too small to fill a register tile (decoding a few
/// tokens, the value and reward heads with OC = 1): it reads the weight once, with no packing, where
/// the blocked GEMM would pack all of it to fill mostly-padded tiles.
/// </summary>
internal static unsafe class GemmDot
{
    /// <summary>Below this many rows or output channels the forward matmul takes the dot-product path.</summary>
    public const int Threshold = 16;

    // A task covers Block rows × Block output channels; within it the weight row is reused across rows from L1.
    private const int Block = 64;

    /// <summary>out[N, OC] = inp[N, C] · weight[OC, C]ᵀ (+ bias[OC] when not null).</summary>
    public static void Run(WorkerPool pool, float* output, float* inp, float* weight, float* bias, int N, int C, int OC)
    {
        var job = new Job { Out = output, Inp = inp, W = weight, Bias = bias, N = N, C = C, OC = OC, OcBlocks = (OC + Block - 1) / Block };
        pool.For((N + Block - 1) / Block * job.OcBlocks, ref job);
    }

    private struct Job : IParallelJob
    {
        public float* Out, Inp, W, Bias;
        public int N, C, OC, OcBlocks;

        public readonly void Execute(int t)
        {
            int n0 = t / OcBlocks * Block, oc0 = t % OcBlocks * Block;
            int n1 = Math.Min(N, n0 + Block), oc1 = Math.Min(OC, oc0 + Block);
            for (int oc = oc0; oc < oc1; oc++)
            {
                var w = new ReadOnlySpan<float>(W + (long)oc * C, C);
                float b = Bias != null ? Bias[oc] : 0f;
                for (int n = n0; n < n1; n++)
                    Out[(long)n * OC + oc] = TensorPrimitives.Dot(new ReadOnlySpan<float>(Inp + (long)n * C, C), w) + b;
            }
        }
    }
}
