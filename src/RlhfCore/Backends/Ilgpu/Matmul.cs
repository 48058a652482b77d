using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using RlhfCore.Backends.Native;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>
/// Parameters of the tiled GEMM: out[i, j] (+)= Σₖ A(i, k)·B(j, k) (+ bias[j]), with A(i, k) = a[i·SAi + k·SAk]
/// and B(j, k) = b[j·SBj + k·SBk], for i &lt; M, j &lt; Nn, k &lt; K.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MatmulParams
{
    public long SAi, SAk, SBj, SBk;
    public int M, Nn, K, Accumulate, HasBias, Pad;
}

/// <summary>Parameters of the two-pass bias-gradient column sum (Chunks of MatmulChunkRows rows).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BiasGradParams
{
    public int N, OC, Chunks, Pad;
}

// Linear layers: out = inp·Wᵀ + b and its backward, as Cpu/Matmul.cs:
//   dinp    = (or += when asked) dout·W      activation gradient: OVERWRITES unless accumulateDinp
//   dweight += doutᵀ·inp                     parameter gradient: ACCUMULATES
//   dbias   += Σₙ dout                       parameter gradient: ACCUMULATES
// GEMMs run on cuBLASLt (TF32) on CUDA when it loads, in ILGPU's context on ILGPU's stream (see
// CudaInterop.cs); on the CPU accelerator, and as the fallback, they run the tiled ILGPU kernel below:
// a group computes a (4·warps) × 32 output tile, each thread 4 outputs of one column, staging 32-wide K
// slices of A and B in shared memory. dbias is always our deterministic two-pass column sum.
public sealed partial class IlgpuBackend
{
    private const int MatmulTileK = 32, MatmulTileN = 32, MatmulRowsPerThread = 4, MatmulChunkRows = 64;

    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatmulParams> _matmul = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, BiasGradParams> _biasGradPartial = null!;
    private Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, BiasGradParams> _biasGradFinish = null!;

    private void LoadMatmulKernels()
    {
        _matmul = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, MatmulParams>(MatmulKernel, s));
        _biasGradPartial = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, BiasGradParams>(BiasGradPartialKernel, s));
        _biasGradFinish = Load((a, s) => a.LoadKernel<ArrayView<float>, ArrayView<float>, BiasGradParams>(BiasGradFinishKernel, s));
    }

    internal static void MatmulKernel(ArrayView<float> output, ArrayView<float> a, ArrayView<float> b, ArrayView<float> bias, MatmulParams p)
    {
        var tileA = SharedMemory.Allocate<float>(32 * (MatmulTileK + 1));          // [tileM ≤ 32][K + 1]
        var tileB = SharedMemory.Allocate<float>(MatmulTileN * (MatmulTileK + 1)); // [32][K + 1]
        int lane = Group.IdxX & 31, warp = Group.IdxX >> 5;
        int tileM = MatmulRowsPerThread * (Group.DimX >> 5);
        int tilesM = (p.M + tileM - 1) / tileM, tilesN = (p.Nn + MatmulTileN - 1) / MatmulTileN;
        for (int t = Grid.IdxX; t < tilesM * tilesN; t += Grid.DimX)
        {
            int i0 = t / tilesN * tileM, j0 = t % tilesN * MatmulTileN;
            float acc0 = 0f, acc1 = 0f, acc2 = 0f, acc3 = 0f;
            for (int k0 = 0; k0 < p.K; k0 += MatmulTileK)
            {
                for (int e = Group.IdxX; e < tileM * MatmulTileK; e += Group.DimX)
                {
                    int r = e / MatmulTileK, kk = e % MatmulTileK, i = i0 + r, k = k0 + kk;
                    tileA[r * (MatmulTileK + 1) + kk] = i < p.M && k < p.K ? a[i * p.SAi + k * p.SAk] : 0f;
                }
                for (int e = Group.IdxX; e < MatmulTileN * MatmulTileK; e += Group.DimX)
                {
                    int r = e / MatmulTileK, kk = e % MatmulTileK, j = j0 + r, k = k0 + kk;
                    tileB[r * (MatmulTileK + 1) + kk] = j < p.Nn && k < p.K ? b[j * p.SBj + k * p.SBk] : 0f;
                }
                Group.Barrier();
                int ra = warp * MatmulRowsPerThread * (MatmulTileK + 1);
                for (int kk = 0; kk < MatmulTileK; kk++)
                {
                    float bv = tileB[lane * (MatmulTileK + 1) + kk];
                    acc0 += tileA[ra + kk] * bv;
                    acc1 += tileA[ra + (MatmulTileK + 1) + kk] * bv;
                    acc2 += tileA[ra + 2 * (MatmulTileK + 1) + kk] * bv;
                    acc3 += tileA[ra + 3 * (MatmulTileK + 1) + kk] * bv;
                }
                Group.Barrier();
            }
            int jo = j0 + lane, io = i0 + warp * MatmulRowsPerThread;
            if (jo < p.Nn)
            {
                float add = p.HasBias != 0 ? bias[jo] : 0f;
                MatmulStore(output, io, jo, acc0 + add, p);
                MatmulStore(output, io + 1, jo, acc1 + add, p);
                MatmulStore(output, io + 2, jo, acc2 + add, p);
                MatmulStore(output, io + 3, jo, acc3 + add, p);
            }
        }
    }

    private static void MatmulStore(ArrayView<float> output, int i, int j, float v, MatmulParams p)
    {
        if (i >= p.M) return;
        long at = (long)i * p.Nn + j;
        output[at] = p.Accumulate != 0 ? output[at] + v : v;
    }

    internal static void BiasGradPartialKernel(ArrayView<float> partials, ArrayView<float> dout, BiasGradParams p)
    {
        long total = (long)p.Chunks * p.OC;
        for (long i = Grid.GlobalIndex.X; i < total; i += Grid.DimX * Group.DimX)
        {
            int chunk = (int)(i / p.OC), c = (int)(i % p.OC);
            int n0 = chunk * MatmulChunkRows, n1 = XMath.Min(p.N, n0 + MatmulChunkRows);
            float acc = 0f;
            for (int n = n0; n < n1; n++) acc += dout[(long)n * p.OC + c];
            partials[i] = acc;
        }
    }

    internal static void BiasGradFinishKernel(ArrayView<float> dbias, ArrayView<float> partials, BiasGradParams p)
    {
        for (long c = Grid.GlobalIndex.X; c < p.OC; c += Grid.DimX * Group.DimX)
        {
            float acc = 0f;
            for (int k = 0; k < p.Chunks; k++) acc += partials[(long)k * p.OC + c];
            dbias[c] += acc;
        }
    }

    /// <inheritdoc/>
    public void MatmulForward(Tensor output, Tensor inp, Tensor weight, Tensor bias, int N, int C, int OC)
    {
        if (N == 0 || OC == 0) return;
        // out^T [OC, N] = W (stored [C, OC] column-major, transposed) · inp^T (stored [C, N] column-major)
        if (CublasGemm(CublasLt.OpT, CublasLt.OpN, OC, N, C, weight, C, inp, C, output, OC, bias, accumulate: false)) return;
        TiledGemm(output, inp, C, 1, weight, C, 1, bias, N, OC, C, accumulate: false);
    }

    /// <inheritdoc/>
    public void MatmulBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, int N, int C, int OC, bool accumulateDinp = false)
    {
        if (N == 0) return;
        if (!dinp.IsNone)
        {
            // dinp^T [C, N] = W^T: W stored [C, OC] column-major · dout^T stored [OC, N] column-major
            if (!CublasGemm(CublasLt.OpN, CublasLt.OpN, C, N, OC, weight, C, dout, OC, dinp, C, Tensor.None, accumulateDinp))
                TiledGemm(dinp, dout, OC, 1, weight, 1, C, Tensor.None, N, C, OC, accumulateDinp);
        }
        // dweight^T [C, OC] += inp^T stored [C, N] · (dout^T stored [OC, N])^T
        if (!CublasGemm(CublasLt.OpN, CublasLt.OpT, C, OC, N, inp, C, dout, OC, dweight, C, Tensor.None, accumulate: true))
            TiledGemm(dweight, dout, 1, OC, inp, 1, C, Tensor.None, OC, C, N, accumulate: true);
        if (!dbias.IsNone)
        {
            int chunks = (N + MatmulChunkRows - 1) / MatmulChunkRows;
            var p = new BiasGradParams { N = N, OC = OC, Chunks = chunks };
            var partials = ScratchFloats(0, (long)chunks * OC);
            _biasGradPartial(_stream, Flat((long)chunks * OC), partials, View(dout), p);
            _biasGradFinish(_stream, Flat(OC), View(dbias), partials, p);
        }
    }

    /// <summary>out[i, j] (+)= Σₖ A(i, k)·B(j, k) (+ bias[j]) with the tiled ILGPU kernel.</summary>
    private void TiledGemm(Tensor output, Tensor a, long sAi, long sAk, Tensor b, long sBj, long sBk, Tensor bias, int M, int Nn, int K, bool accumulate)
    {
        if (M == 0 || Nn == 0) return;
        int tileM = MatmulRowsPerThread * (GroupSize / 32);
        long tiles = (long)((M + tileM - 1) / tileM) * ((Nn + MatmulTileN - 1) / MatmulTileN);
        _matmul(_stream, Rows(tiles), View(output), View(a), View(b), View(bias), new MatmulParams
        {
            SAi = sAi, SAk = sAk, SBj = sBj, SBk = sBk, M = M, Nn = Nn, K = K,
            Accumulate = accumulate ? 1 : 0, HasBias = bias.IsNone ? 0 : 1,
        });
    }
}
