using System.Runtime.InteropServices;
using RlhfCore.Backends.Native;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

/// <summary>Mirrors MatmulParams in kernels/cuda/matmul.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MatmulParams
{
    public nint Out, A, B, Bias;
    public long SAi, SAk, SBj, SBk;
    public int M, Nn, K, Accumulate;
}

/// <summary>Mirrors DbiasParams in kernels/cuda/matmul.cu.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct DbiasParams
{
    public nint DBias, Dout, Partials;
    public int M, Nn;
}

// Linear layers: out = inp·Wᵀ + b and its backward (dinp = or += dout·W; dweight += doutᵀ·inp; dbias += Σ dout).
// GEMMs run on cuBLASLt with TF32 tensor-core math when libcublasLt loads, through the row-major-as-
// transposed-column-major identity (a row-major [R, C] matrix is a column-major [C, R] one), with the bias
// fused as cuBLASLt's BIAS epilogue in forward. Descriptors and the heuristic's algorithm are cached per
// shape and pointer alignment; the workspace is allocated once. Without cuBLASLt (or for a shape it
// rejects) our mma.sync TF32 kernel in kernels/cuda/matmul.cu runs instead. dbias is always our
// deterministic two-pass column sum.
public sealed unsafe partial class CudaBackend
{
    /// <summary>Rows per dbias partial chunk: DB_CHUNK_ROWS in matmul.cu.</summary>
    private const int DbiasChunkRows = 64;

    private bool _ltTried;
    private CublasLtGemm? _gemm;
    private DeviceBuffer? _ltWorkspace;
    private string? _ltUnavailableReason;
    private CudaKernel? _matmul, _dbiasPartial, _dbiasFinish;

    /// <summary>When false, GEMMs use our own TF32 kernel even if cuBLASLt is available (for testing and comparison).</summary>
    public bool UseCublasLt { get; set; } = true;

    /// <summary>What runs GEMMs: "cuBLASLt (TF32)" or our kernel, with the reason cuBLASLt is not used.</summary>
    public string GemmEngine => UseCublasLt && EnsureCublasLt() ? "cuBLASLt (TF32)" : $"mma.sync TF32 kernel ({(UseCublasLt ? _ltUnavailableReason : "cuBLASLt disabled")})";

    /// <inheritdoc/>
    public void MatmulForward(Tensor output, Tensor inp, Tensor weight, Tensor bias, int N, int C, int OC)
    {
        // out^T [OC, N] = W (stored [C, OC] column-major, transposed) · inp^T (stored [C, N] column-major)
        if (Gemm(CublasLt.OpT, CublasLt.OpN, OC, N, C, weight.Address, C, inp.Address, C, output.Address, OC, Ptr(bias), accumulate: false))
            return;
        OwnGemm(output, inp.Address, C, 1, weight.Address, C, 1, bias, N, OC, C, accumulate: false);
    }

    /// <inheritdoc/>
    public void MatmulBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, int N, int C, int OC, bool accumulateDinp = false)
    {
        if (!dinp.IsNone)
        {
            // dinp^T [C, N] = W^T: W stored [C, OC] column-major · dout^T stored [OC, N] column-major
            if (!Gemm(CublasLt.OpN, CublasLt.OpN, C, N, OC, weight.Address, C, dout.Address, OC, dinp.Address, C, 0, accumulateDinp))
                OwnGemm(dinp, dout.Address, OC, 1, weight.Address, 1, C, Tensor.None, N, C, OC, accumulateDinp);
        }
        // dweight^T [C, OC] += inp^T stored [C, N] · (dout^T stored [OC, N])^T
        if (!Gemm(CublasLt.OpN, CublasLt.OpT, C, OC, N, inp.Address, C, dout.Address, OC, dweight.Address, C, 0, accumulate: true))
            OwnGemm(dweight, dout.Address, 1, OC, inp.Address, 1, C, Tensor.None, OC, C, N, accumulate: true);
        if (!dbias.IsNone) BiasGradient(dbias, dout, N, OC);
    }

    private void BiasGradient(Tensor dbias, Tensor dout, int N, int OC)
    {
        _dbiasPartial ??= Kernel("matmul", "dbias_partial");
        _dbiasFinish ??= Kernel("matmul", "dbias_finish");
        int chunks = (N + DbiasChunkRows - 1) / DbiasChunkRows;
        var p = new DbiasParams { DBias = dbias.Address, Dout = dout.Address, Partials = Scratch((long)chunks * OC * sizeof(float)), M = N, Nn = OC };
        Launch(_dbiasPartial, ((uint)((OC + 31) / 32), (uint)chunks, 1), (32, 8, 1), 0, p);
        Launch(_dbiasFinish, Grid1D(OC, 256), Block1D(256), 0, p);
    }

    /// <summary>out[i, j] (+)= Σₖ A(i, k)·B(j, k) (+ bias[j]) with our TF32 kernel; see matmul.cu.</summary>
    private void OwnGemm(Tensor output, nint a, long sAi, long sAk, nint b, long sBj, long sBk, Tensor bias, int M, int Nn, int K, bool accumulate)
    {
        _matmul ??= Kernel("matmul", "matmul_tf32");
        Launch(_matmul, ((uint)((Nn + 63) / 64), (uint)((M + 63) / 64), 1), Block1D(128), 0, new MatmulParams
        {
            Out = output.Address, A = a, B = b, Bias = Ptr(bias), SAi = sAi, SAk = sAk, SBj = sBj, SBk = sBk,
            M = M, Nn = Nn, K = K, Accumulate = accumulate ? 1 : 0,
        });
    }

    // ---- cuBLASLt ------------------------------------------------------------------------------------

    private bool EnsureCublasLt()
    {
        if (_ltTried) return _gemm != null;
        _ltTried = true;
        try
        {
            MakeCurrent();
            _ltWorkspace = Allocate(CublasLtGemm.WorkspaceBytes);
            _gemm = new CublasLtGemm(_stream, _ltWorkspace.Address);
        }
        catch (CudaUnavailableException e)
        {
            _ltUnavailableReason = e.Message;
            _ltWorkspace?.Dispose();
            _ltWorkspace = null;
        }
        return _gemm != null;
    }

    /// <summary>cuBLASLt GEMM (see <see cref="CublasLtGemm.Gemm"/>); false when it is disabled, unavailable or has no algorithm.</summary>
    private bool Gemm(int transA, int transB, int m, int n, int k, nint a, int lda, nint b, int ldb, nint d, int ldd, nint bias, bool accumulate)
    {
        if (!UseCublasLt || !EnsureCublasLt()) return false;
        MakeCurrent();
        return _gemm!.Gemm(transA, transB, m, n, k, a, lda, b, ldb, d, ldd, bias, accumulate);
    }

    private void DisposeGemm()
    {
        _gemm?.Dispose();
        _gemm = null;
        _ltWorkspace?.Dispose();
        _scratch?.Dispose();
    }
}
