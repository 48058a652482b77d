using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the LayerNorm kernels (Chunks: row chunks of the two-pass parameter-gradient sums).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct LayerNormParams
{
    public int N, C, Chunks, Pad;
}

// LayerNorm over the last dimension C, eps 1e-5, as Cpu/LayerNorm.cs:
//   forward   μ = mean(x), σ² = mean((x − μ)²), rstd = 1/√(σ² + eps), x̂ = (x − μ)·rstd,
//             out = x̂·weight + bias; saves μ and rstd.
//   backward  dx̂ = weight·dout
//             dinp    += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))   ACCUMULATES (the residual stream)
//             dweight += Σₙ x̂·dout                             ACCUMULATES (parameter)
//             dbias   += Σₙ dout                               ACCUMULATES (parameter)
// Deterministic: forward and dinp are row-local (one group per row, ILGPU.Algorithms' group all-reduce,
// a fixed tree); dweight/dbias are column sums in two passes — per-chunk partials of LayerNormChunkRows
// rows summed in row order, then the chunks added in order. No atomics.
public sealed partial class IlgpuBackend
{
    private const float LayerNormEps = 1e-5f;
    private const int LayerNormChunkRows = 64;

    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams> _layerNormForward = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams> _layerNormBackwardDinp = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams> _layerNormParamsPartial = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams> _layerNormParamsFinish = null!;

    private void LoadLayerNormKernels()
    {
        _layerNormForward = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams>(LayerNormForwardKernel, s));
        _layerNormBackwardDinp = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams>(LayerNormBackwardDinpKernel, s));
        _layerNormParamsPartial = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams>(LayerNormParamsPartialKernel, s));
        _layerNormParamsFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, LayerNormParams>(LayerNormParamsFinishKernel, s));
    }

    internal static void LayerNormForwardKernel(ArrayView<float> output, ArrayView<float> mean, ArrayView<float> rstd,
        ArrayView<float> inp, ArrayView<float> weight, ArrayView<float> bias, LayerNormParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            long row = (long)n * p.C;
            float s = 0f;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX) s += inp[row + c];
            float mu = GroupExtensions.AllReduce<float, AddFloat>(s) / p.C;
            float sq = 0f;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
            {
                float d = inp[row + c] - mu;
                sq += d * d;
            }
            float rs = 1f / XMath.Sqrt(GroupExtensions.AllReduce<float, AddFloat>(sq) / p.C + LayerNormEps);
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
                output[row + c] = (inp[row + c] - mu) * rs * weight[c] + bias[c];
            if (Group.IsFirstThread)
            {
                mean[n] = mu;
                rstd[n] = rs;
            }
        }
    }

    internal static void LayerNormBackwardDinpKernel(ArrayView<float> dinp, ArrayView<float> dout, ArrayView<float> inp,
        ArrayView<float> weight, ArrayView<float> mean, ArrayView<float> rstd, LayerNormParams p)
    {
        for (int n = Grid.IdxX; n < p.N; n += Grid.DimX)
        {
            long row = (long)n * p.C;
            float mu = mean[n], rs = rstd[n];
            float dn = 0f, dnx = 0f;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
            {
                float xh = (inp[row + c] - mu) * rs, g = weight[c] * dout[row + c];
                dn += g;
                dnx += g * xh;
            }
            dn = GroupExtensions.AllReduce<float, AddFloat>(dn) / p.C;
            dnx = GroupExtensions.AllReduce<float, AddFloat>(dnx) / p.C;
            for (int c = Group.IdxX; c < p.C; c += Group.DimX)
            {
                float xh = (inp[row + c] - mu) * rs, g = weight[c] * dout[row + c];
                dinp[row + c] += rs * (g - dn - xh * dnx);
            }
        }
    }

    /// <summary>partials[chunk, 0, c] = Σ x̂·dout and partials[chunk, 1, c] = Σ dout over the chunk's rows, in row order.</summary>
    internal static void LayerNormParamsPartialKernel(ArrayView<float> partials, ArrayView<float> dout, ArrayView<float> inp,
        ArrayView<float> mean, ArrayView<float> rstd, LayerNormParams p)
    {
        long total = (long)p.Chunks * p.C;
        for (long i = Grid.GlobalIndex.X; i < total; i += Grid.DimX * Group.DimX)
        {
            int chunk = (int)(i / p.C), c = (int)(i % p.C);
            int n0 = chunk * LayerNormChunkRows, n1 = XMath.Min(p.N, n0 + LayerNormChunkRows);
            float aw = 0f, ab = 0f;
            for (int n = n0; n < n1; n++)
            {
                float d = dout[(long)n * p.C + c];
                aw += (inp[(long)n * p.C + c] - mean[n]) * rstd[n] * d;
                ab += d;
            }
            partials[(long)chunk * 2 * p.C + c] = aw;
            partials[((long)chunk * 2 + 1) * p.C + c] = ab;
        }
    }

    internal static void LayerNormParamsFinishKernel(ArrayView<float> dweight, ArrayView<float> dbias, ArrayView<float> partials, LayerNormParams p)
    {
        for (long c = Grid.GlobalIndex.X; c < p.C; c += Grid.DimX * Group.DimX)
        {
            float aw = 0f, ab = 0f;
            for (int k = 0; k < p.Chunks; k++)
            {
                aw += partials[(long)k * 2 * p.C + c];
                ab += partials[((long)k * 2 + 1) * p.C + c];
            }
            dweight[c] += aw;
            dbias[c] += ab;
        }
    }

    /// <inheritdoc/>
    public void LayerNormForward(Tensor output, Tensor mean, Tensor rstd, Tensor inp, Tensor weight, Tensor bias, int N, int C)
    {
        if (N == 0 || C == 0) return;
        _layerNormForward(_stream, Rows(N), View(output), View(mean), View(rstd), View(inp), View(weight), View(bias),
            new LayerNormParams { N = N, C = C });
    }

    /// <inheritdoc/>
    public void LayerNormBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, Tensor mean, Tensor rstd, int N, int C)
    {
        if (N == 0 || C == 0) return;
        int chunks = (N + LayerNormChunkRows - 1) / LayerNormChunkRows;
        var p = new LayerNormParams { N = N, C = C, Chunks = chunks };
        _layerNormBackwardDinp(_stream, Rows(N), View(dinp), View(dout), View(inp), View(weight), View(mean), View(rstd), p);
        var partials = ScratchFloats(0, 2L * chunks * C);
        _layerNormParamsPartial(_stream, Flat((long)chunks * C), partials, View(dout), View(inp), View(mean), View(rstd), p);
        _layerNormParamsFinish(_stream, Flat(C), View(dweight), View(dbias), partials, p);
    }
}
