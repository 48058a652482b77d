using System.Numerics;
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
    private const long LtWorkspaceBytes = 32L << 20;
    /// <summary>Rows per dbias partial chunk: DB_CHUNK_ROWS in matmul.cu.</summary>
    private const int DbiasChunkRows = 64;

    private bool _ltTried;
    private nint _lt;
    private DeviceBuffer? _ltWorkspace;
    private string? _ltUnavailableReason;
    private readonly Dictionary<GemmKey, GemmPlan?> _gemmPlans = [];
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

    private readonly record struct GemmKey(int TransA, int TransB, int M, int N, int K, int Lda, int Ldb, int Ldc, bool Bias, int AlignA, int AlignB, int AlignC);

    private sealed class GemmPlan
    {
        public nint Desc, LayoutA, LayoutB, LayoutC;
        public CublasLtHeuristicResult Heuristic;
    }

    private bool EnsureCublasLt()
    {
        if (_ltTried) return _lt != 0;
        _ltTried = true;
        try
        {
            var api = CublasLt.Api;
            MakeCurrent();
            nint h;
            Check.ThrowIfFailed(api.cublasLtCreate(&h));
            _lt = h;
            _ltWorkspace = Allocate(LtWorkspaceBytes);
        }
        catch (CudaUnavailableException e)
        {
            _ltUnavailableReason = e.Message;
        }
        return _lt != 0;
    }

    private static int Alignment(nint p) => p == 0 ? 256 : Math.Min(256, 1 << BitOperations.TrailingZeroCount((long)p));

    /// <summary>
    /// Column-major D[m, n] = op(A)·op(B) (+ D when accumulate) (+ bias[m]) through cuBLASLt. Returns false
    /// (nothing queued) when cuBLASLt is unavailable or has no algorithm for this shape.
    /// </summary>
    private bool Gemm(int transA, int transB, int m, int n, int k, nint a, int lda, nint b, int ldb, nint d, int ldd, nint bias, bool accumulate)
    {
        if (m == 0 || n == 0) return true;
        if (!UseCublasLt || !EnsureCublasLt()) return false;
        var key = new GemmKey(transA, transB, m, n, k, lda, ldb, ldd, bias != 0, Alignment(a), Alignment(b), Alignment(d));
        if (!_gemmPlans.TryGetValue(key, out var plan)) _gemmPlans[key] = plan = CreatePlan(key);
        if (plan == null) return false;
        var api = CublasLt.Api;
        MakeCurrent();
        if (bias != 0)
            Check.ThrowIfFailed(api.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLtMatmulDescAttribute.BiasPointer, &bias, (nuint)sizeof(nint)));
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        var h = plan.Heuristic;
        Check.ThrowIfFailed(api.cublasLtMatmul(_lt, plan.Desc, &alpha, a, plan.LayoutA, b, plan.LayoutB, &beta, d, plan.LayoutC, d, plan.LayoutC,
            h.Algo, _ltWorkspace!.Address, (nuint)LtWorkspaceBytes, _stream));
        return true;
    }

    private GemmPlan? CreatePlan(GemmKey key)
    {
        var api = CublasLt.Api;
        var plan = new GemmPlan();
        nint desc, la, lb, lc, pref;
        Check.ThrowIfFailed(api.cublasLtMatmulDescCreate(&desc, CublasLt.ComputeTf32, CublasLt.R32F));
        plan.Desc = desc;
        int ta = key.TransA, tb = key.TransB, epilogue = key.Bias ? CublasLt.EpilogueBias : CublasLt.EpilogueDefault;
        Check.ThrowIfFailed(api.cublasLtMatmulDescSetAttribute(desc, CublasLtMatmulDescAttribute.TransA, &ta, sizeof(int)));
        Check.ThrowIfFailed(api.cublasLtMatmulDescSetAttribute(desc, CublasLtMatmulDescAttribute.TransB, &tb, sizeof(int)));
        Check.ThrowIfFailed(api.cublasLtMatmulDescSetAttribute(desc, CublasLtMatmulDescAttribute.Epilogue, &epilogue, sizeof(int)));
        // Stored shapes (before op): A is [m, k] or, transposed, [k, m]; B is [k, n] or [n, k].
        Check.ThrowIfFailed(api.cublasLtMatrixLayoutCreate(&la, CublasLt.R32F, (ulong)(ta == CublasLt.OpN ? key.M : key.K), (ulong)(ta == CublasLt.OpN ? key.K : key.M), key.Lda));
        Check.ThrowIfFailed(api.cublasLtMatrixLayoutCreate(&lb, CublasLt.R32F, (ulong)(tb == CublasLt.OpN ? key.K : key.N), (ulong)(tb == CublasLt.OpN ? key.N : key.K), key.Ldb));
        Check.ThrowIfFailed(api.cublasLtMatrixLayoutCreate(&lc, CublasLt.R32F, (ulong)key.M, (ulong)key.N, key.Ldc));
        plan.LayoutA = la; plan.LayoutB = lb; plan.LayoutC = lc;
        Check.ThrowIfFailed(api.cublasLtMatmulPreferenceCreate(&pref));
        try
        {
            ulong ws = LtWorkspaceBytes;
            Check.ThrowIfFailed(api.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtPreferenceAttribute.MaxWorkspaceBytes, &ws, sizeof(ulong)));
            uint alA = (uint)key.AlignA, alB = (uint)key.AlignB, alC = (uint)key.AlignC;
            Check.ThrowIfFailed(api.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtPreferenceAttribute.MinAlignmentABytes, &alA, sizeof(uint)));
            Check.ThrowIfFailed(api.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtPreferenceAttribute.MinAlignmentBBytes, &alB, sizeof(uint)));
            Check.ThrowIfFailed(api.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtPreferenceAttribute.MinAlignmentCBytes, &alC, sizeof(uint)));
            Check.ThrowIfFailed(api.cublasLtMatmulPreferenceSetAttribute(pref, CublasLtPreferenceAttribute.MinAlignmentDBytes, &alC, sizeof(uint)));
            CublasLtHeuristicResult result;
            int found = 0;
            var status = api.cublasLtMatmulAlgoGetHeuristic(_lt, desc, la, lb, lc, lc, pref, 1, &result, &found);
            if (status != CublasStatus.Success || found == 0)
            {
                DestroyPlan(plan);
                return null;
            }
            plan.Heuristic = result;
            return plan;
        }
        finally
        {
            api.cublasLtMatmulPreferenceDestroy(pref);
        }
    }

    private static void DestroyPlan(GemmPlan plan)
    {
        var api = CublasLt.Api;
        if (plan.LayoutA != 0) api.cublasLtMatrixLayoutDestroy(plan.LayoutA);
        if (plan.LayoutB != 0) api.cublasLtMatrixLayoutDestroy(plan.LayoutB);
        if (plan.LayoutC != 0) api.cublasLtMatrixLayoutDestroy(plan.LayoutC);
        if (plan.Desc != 0) api.cublasLtMatmulDescDestroy(plan.Desc);
    }

    private void DisposeGemm()
    {
        foreach (var plan in _gemmPlans.Values)
            if (plan != null) DestroyPlan(plan);
        _gemmPlans.Clear();
        _ltWorkspace?.Dispose();
        _scratch?.Dispose();
        if (_lt != 0) CublasLt.Api.cublasLtDestroy(_lt);
        _lt = 0;
    }
}
