using RlhfCore.Backends.Native;
using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors LayerNormParams in kernels/cuda/layernorm.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LayerNormParams
{
    public nint Out, Mean, Rstd, Inp, Weight, Bias, Dout, DWeight, DBias, Partials;
    public int N, C;
}

// LayerNorm (kernels/cuda/layernorm.cu): a warp per row; backward's dweight/dbias by deterministic
// two-pass column sums (chunk partials in scratch, then chunks in order). All three gradients accumulate.
public sealed partial class CudaBackend
{
    /// <summary>Rows per partial-sum chunk: LN_CHUNK_ROWS in layernorm.cu.</summary>
    private const int LayerNormChunkRows = 64;

    private CudaKernel? _lnForward, _lnBackwardDinp, _lnDparamsPartial, _lnDparamsFinish;

    /// <inheritdoc/>
    public void LayerNormForward(Tensor output, Tensor mean, Tensor rstd, Tensor inp, Tensor weight, Tensor bias, int N, int C)
    {
        _lnForward ??= Kernel("layernorm", "layernorm_forward");
        Launch(_lnForward, Grid1D(N, 8), Block1D(256), 0, new LayerNormParams
        {
            Out = output.Address, Mean = mean.Address, Rstd = rstd.Address, Inp = inp.Address, Weight = weight.Address, Bias = bias.Address, N = N, C = C,
        });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, Tensor mean, Tensor rstd, int N, int C)
    {
        _lnBackwardDinp ??= Kernel("layernorm", "layernorm_backward_dinp");
        _lnDparamsPartial ??= Kernel("layernorm", "layernorm_dparams_partial");
        _lnDparamsFinish ??= Kernel("layernorm", "layernorm_dparams_finish");
        int chunks = (N + LayerNormChunkRows - 1) / LayerNormChunkRows;
        var p = new LayerNormParams
        {
            Out = dinp.Address, Mean = mean.Address, Rstd = rstd.Address, Inp = inp.Address, Weight = weight.Address,
            Dout = dout.Address, DWeight = dweight.Address, DBias = dbias.Address, Partials = Scratch(2L * chunks * C * sizeof(float)), N = N, C = C,
        };
        Launch(_lnBackwardDinp, Grid1D(N, 8), Block1D(256), 0, p);
        Launch(_lnDparamsPartial, ((uint)((C + 31) / 32), (uint)chunks, 1), (32, 8, 1), 0, p);
        Launch(_lnDparamsFinish, Grid1D(C, 256), Block1D(256), 0, p);
    }
}
