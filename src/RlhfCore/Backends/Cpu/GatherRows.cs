using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Row gather (the reward/value score at each sequence's last real token):
//   forward   out[m, :] = inp[rows[m], :]
//   backward  dinp[rows[m], :] += dout[m, :]   ACCUMULATES (dinp is the residual stream's gradient)
// Row indices are checked on the host before anything is written: an index outside inp would read or
// write outside its memory. Backward is split over blocks of channels, never over m, and each block walks
// m in order, so repeated rows add up in one fixed order without races (this scatter-add also serves
// embedding backward).

public sealed unsafe partial class CpuBackend
{
    /// <summary>Floats of work below which a row kernel runs on the calling thread (dispatch would cost more).</summary>
    private const int ParallelMinElements = 1 << 14;

    /// <summary>Channels per scatter-add task: 64 floats, four cache lines, a multiple of every vector width.</summary>
    private const int ChannelBlock = 64;

    /// <inheritdoc/>
    public void GatherRowsForward(Tensor output, Tensor inp, Tensor rows, int M, int C)
    {
        CheckRowIndices(I(rows), M, inp.Length / Math.Max(C, 1), nameof(rows));
        var job = new GatherRowsJob { Output = F(output), Input = F(inp), Rows = I(rows), M = M, C = C };
        if ((long)M * C < ParallelMinElements) { for (int m = 0; m < M; m++) job.Execute(m); }
        else Pool.For(M, ref job);
    }

    /// <inheritdoc/>
    public void GatherRowsBackward(Tensor dinp, Tensor dout, Tensor rows, int M, int C)
    {
        CheckRowIndices(I(rows), M, dinp.Length / Math.Max(C, 1), nameof(rows));
        ScatterAddRows(F(dinp), I(rows), F(dout), M, C);
    }

    /// <summary>
    /// Throws <see cref="ArgumentOutOfRangeException"/> naming the first index outside [0, <paramref name="limit"/>).
    /// </summary>
    private static void CheckRowIndices(int* index, int count, long limit, string paramName)
    {
        for (int i = 0; i < count; i++)
            if ((uint)index[i] >= limit)
                throw new ArgumentOutOfRangeException(paramName, index[i],
                    $"{paramName}[{i}] = {index[i]} is outside the {limit} rows of the indexed tensor (valid: 0 to {limit - 1})");
    }

    /// <summary>target[index[r], :] += src[r, :] for r in [0, rows), deterministic for repeated indices.</summary>
    private void ScatterAddRows(float* target, int* index, float* src, int rows, int C)
    {
        bool parallel = (long)rows * C >= ParallelMinElements;
        var job = new ScatterAddRowsJob { Target = target, Index = index, Src = src, Rows = rows, C = C, Width = parallel ? ChannelBlock : C };
        if (parallel) Pool.For((C + ChannelBlock - 1) / ChannelBlock, ref job);
        else job.Execute(0);
    }

    private struct GatherRowsJob : IParallelJob
    {
        public float* Output; public float* Input; public int* Rows; public int M; public int C;

        public void Execute(int m) =>
            new ReadOnlySpan<float>(Input + (long)Rows[m] * C, C).CopyTo(new Span<float>(Output + (long)m * C, C));
    }

    /// <summary>Task b adds channels [b·Width, (b+1)·Width) of every source row, rows in order.</summary>
    private struct ScatterAddRowsJob : IParallelJob
    {
        public float* Target; public int* Index; public float* Src; public int Rows; public int C; public int Width;

        public void Execute(int block)
        {
            int c0 = block * Width, width = Math.Min(Width, C - c0);
            for (int r = 0; r < Rows; r++)
            {
                var dst = new Span<float>(Target + (long)Index[r] * C + c0, width);
                TensorPrimitives.Add(dst, new ReadOnlySpan<float>(Src + (long)r * C + c0, width), dst);
            }
        }
    }
}
