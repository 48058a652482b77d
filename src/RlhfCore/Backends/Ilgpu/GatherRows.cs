using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the row gather and the row scatter-add (R = rows of the gathered-from or scattered-to table).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct GatherRowsParams
{
    public int M, C, R, Pad;
}

// Row gather and the deterministic row scatter-add, as Cpu/GatherRows.cs:
//   GatherRowsForward   out[m, :] = inp[rows[m], :]            (rows outside [0, R) give NaN rows)
//   ScatterAddRows      dst[ids[m], :] += src[m, :]           ACCUMULATES
// ScatterAddRows serves GatherRowsBackward (dinp is the residual stream's gradient) and EmbeddingBackward
// (dwte/dwpe are parameter gradients): both accumulate. Deterministic without sorting or atomics: the group
// for row m first checks whether an earlier m' < m has the same id; if so it does nothing. Otherwise it
// owns the id, sums the src rows of every m'' ≥ m with that id in ascending m'' order per channel, and adds
// the sum to dst once. Ids outside [0, R) are skipped (a kernel cannot throw).
// Launch: one group per m, grid-stride over m.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherRowsParams> _gatherRowsForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherRowsParams> _scatterAddRows = null!;

    private void LoadGatherRowsKernels()
    {
        _gatherRowsForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherRowsParams>(GatherRowsForwardKernel, s));
        _scatterAddRows = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<int>, GatherRowsParams>(ScatterAddRowsKernel, s));
    }

    internal static void GatherRowsForwardKernel(ArrayView<float> output, ArrayView<float> inp, ArrayView<int> rows, GatherRowsParams p)
    {
        for (int m = Grid.IdxX; m < p.M; m += Grid.DimX)
        {
            int r = rows[m];
            bool ok = r >= 0 && r < p.R;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
                output[(long)m * p.C + c] = ok ? inp[(long)r * p.C + c] : float.NaN;
        }
    }

    internal static void ScatterAddRowsKernel(ArrayView<float> dst, ArrayView<float> src, ArrayView<int> ids, GatherRowsParams p)
    {
        for (int m = Grid.IdxX; m < p.M; m += Grid.DimX)
        {
            int id = ids[m];
            if (id < 0 || id >= p.R) continue;   // uniform over the group
            bool seen = false;
            for (int b = 0; b < m && !seen; b += Group.DimX)
            {
                int j = b + Group.IdxX;
                seen = Group.BarrierOr(j < m && ids[j] == id);
            }
            if (seen) continue;                  // an earlier row owns this id
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
            {
                float acc = 0f;
                for (int j = m; j < p.M; j++)
                    if (ids[j] == id) acc += src[(long)j * p.C + c];
                dst[(long)id * p.C + c] += acc;
            }
        }
    }

    /// <inheritdoc/>
    public void GatherRowsForward(Tensor output, Tensor inp, Tensor rows, int M, int C)
    {
        if (M == 0 || C == 0) return;
        _gatherRowsForward(_stream, Rows(M), View(output), View(inp), Ints(rows), new GatherRowsParams { M = M, C = C, R = (int)(inp.Length / C) });
    }

    /// <inheritdoc/>
    public void GatherRowsBackward(Tensor dinp, Tensor dout, Tensor rows, int M, int C) => ScatterAddRows(dinp, dout, rows, M, C);

    /// <summary>dst[ids[m], :] += src[m, :] for m in [0, M), deterministically.</summary>
    private void ScatterAddRows(Tensor dst, Tensor src, Tensor ids, int M, int C)
    {
        if (M == 0 || C == 0) return;
        _scatterAddRows(_stream, Rows(M), View(dst), View(src), Ints(ids), new GatherRowsParams { M = M, C = C, R = (int)(dst.Length / C) });
    }
}
