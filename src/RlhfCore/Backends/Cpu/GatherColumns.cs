using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// One value per row at a per-row column (ILQL's Q(s, a) at the taken action, read out of a Q head's [N, V] rows):
//   forward   out[n] = inp[n, cols[n]]                OVERWRITES out
//   backward  dinp[n, cols[n]] += dout[n]             ACCUMULATES (it adds the TD gradient at the action to a
//                                                      dQ row that already holds the CQL cross-entropy gradient)
// Columns are checked on the host before anything is written. One element per row: a plain loop (N ≤ a few
// thousand rows; the work is N loads, far below the cost of a pool dispatch).
public sealed unsafe partial class CpuBackend
{
    /// <inheritdoc/>
    public void GatherColumnsForward(Tensor output, Tensor inp, Tensor cols, int N, int V)
    {
        int* c = I(cols);
        CheckColumns(c, N, V);
        float* o = F(output), x = F(inp);
        for (int n = 0; n < N; n++) o[n] = x[(long)n * V + c[n]];
    }

    /// <inheritdoc/>
    public void GatherColumnsBackward(Tensor dinp, Tensor dout, Tensor cols, int N, int V)
    {
        int* c = I(cols);
        CheckColumns(c, N, V);
        float* d = F(dinp), g = F(dout);
        for (int n = 0; n < N; n++) d[(long)n * V + c[n]] += g[n];
    }

    private static void CheckColumns(int* cols, int N, int V)
    {
        for (int n = 0; n < N; n++)
            if ((uint)cols[n] >= (uint)V)
                throw new ArgumentOutOfRangeException(nameof(cols), cols[n],
                    $"gather columns: column of row {n} is {cols[n]}, outside [0, {V}); give padding rows a valid column and zero gradient");
    }
}
