using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Token + learned position embedding:
//   forward   out[n, :] = wte[tokens[n], :] + wpe[positions[n], :]
//   backward  dwte[tokens[n], :] += dout[n, :];  dwpe[positions[n], :] += dout[n, :]
// Gradient rule: both are parameter gradients and ACCUMULATE. Repeated token ids (and every batch repeats
// positions) make backward a scatter-add; it is split over channel blocks with rows in order (see
// ScatterAddRows in GatherRows.cs), so it is race-free and bit-identical for any thread count.
// Token ids and positions are checked on the host first: a bad id would read or write outside the table.

public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, Tensor tokens, Tensor positions, Tensor wte, Tensor wpe, int N, int C)
    {
        CheckRowIndices(I(tokens), N, wte.Length / Math.Max(C, 1), nameof(tokens));
        CheckRowIndices(I(positions), N, wpe.Length / Math.Max(C, 1), nameof(positions));
        int rowsPerTask = Math.Max(1, ParallelMinElements / Math.Max(C, 1));
        var job = new EmbeddingForwardJob
        {
            Output = F(output), Tokens = I(tokens), Positions = I(positions), Wte = F(wte), Wpe = F(wpe),
            N = N, C = C, RowsPerTask = rowsPerTask,
        };
        Pool.For((N + rowsPerTask - 1) / rowsPerTask, ref job);
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor dwte, Tensor dwpe, Tensor dout, Tensor tokens, Tensor positions, int N, int C)
    {
        CheckRowIndices(I(tokens), N, dwte.Length / Math.Max(C, 1), nameof(tokens));
        CheckRowIndices(I(positions), N, dwpe.Length / Math.Max(C, 1), nameof(positions));
        ScatterAddRows(F(dwte), I(tokens), F(dout), N, C);
        ScatterAddRows(F(dwpe), I(positions), F(dout), N, C);
    }

    /// <summary>Task t writes rows [t·RowsPerTask, (t+1)·RowsPerTask).</summary>
    private struct EmbeddingForwardJob : IParallelJob
    {
        public float* Output; public int* Tokens; public int* Positions; public float* Wte; public float* Wpe;
        public int N; public int C; public int RowsPerTask;

        public void Execute(int task)
        {
            int end = Math.Min(N, (task + 1) * RowsPerTask);
            for (int n = task * RowsPerTask; n < end; n++)
                TensorPrimitives.Add(
                    new ReadOnlySpan<float>(Wte + (long)Tokens[n] * C, C),
                    new ReadOnlySpan<float>(Wpe + (long)Positions[n] * C, C),
                    new Span<float>(Output + (long)n * C, C));
        }
    }
}
