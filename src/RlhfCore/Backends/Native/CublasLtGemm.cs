using System.Numerics;

namespace RlhfCore.Backends.Native;

/// <summary>
/// GEMMs through cuBLASLt with TF32 tensor-core math on one stream, shared by the NVRTC backend and the
/// ILGPU backend (which creates it in ILGPU's context, on ILGPU's stream). Descriptors and the heuristic's
/// algorithm are cached per shape and pointer alignment. The caller owns the workspace and makes the
/// context current before each call.
/// </summary>
internal sealed unsafe class CublasLtGemm : IDisposable
{
    /// <summary>Workspace bytes cuBLASLt may use per call.</summary>
    public const long WorkspaceBytes = 32L << 20;

    private readonly nint _lt;
    private readonly nint _stream;
    private readonly nint _workspace;
    private readonly Dictionary<GemmKey, GemmPlan?> _plans = [];

    private readonly record struct GemmKey(int TransA, int TransB, int M, int N, int K, int Lda, int Ldb, int Ldc, bool Bias, int AlignA, int AlignB, int AlignC);

    private sealed class GemmPlan
    {
        public nint Desc, LayoutA, LayoutB, LayoutC;
        public CublasLtHeuristicResult Heuristic;
    }

    /// <summary>
    /// Creates the cuBLASLt handle in the current context; <paramref name="workspace"/> is a device buffer of
    /// <see cref="WorkspaceBytes"/>. Throws <see cref="CudaUnavailableException"/> when libcublasLt cannot be loaded.
    /// </summary>
    public CublasLtGemm(nint stream, nint workspace)
    {
        var api = CublasLt.Api;
        nint h;
        Check.ThrowIfFailed(api.cublasLtCreate(&h));
        _lt = h;
        _stream = stream;
        _workspace = workspace;
    }

    private static int Alignment(nint p) => p == 0 ? 256 : Math.Min(256, 1 << BitOperations.TrailingZeroCount((long)p));

    /// <summary>
    /// Column-major D[m, n] = op(A)·op(B) (+ D when accumulate) (+ bias[m]) through cuBLASLt. Returns false
    /// (nothing queued) when cuBLASLt has no algorithm for this shape.
    /// </summary>
    public bool Gemm(int transA, int transB, int m, int n, int k, nint a, int lda, nint b, int ldb, nint d, int ldd, nint bias, bool accumulate)
    {
        if (m == 0 || n == 0) return true;
        var key = new GemmKey(transA, transB, m, n, k, lda, ldb, ldd, bias != 0, Alignment(a), Alignment(b), Alignment(d));
        if (!_plans.TryGetValue(key, out var plan)) _plans[key] = plan = CreatePlan(key);
        if (plan == null) return false;
        var api = CublasLt.Api;
        if (bias != 0)
            Check.ThrowIfFailed(api.cublasLtMatmulDescSetAttribute(plan.Desc, CublasLtMatmulDescAttribute.BiasPointer, &bias, (nuint)sizeof(nint)));
        float alpha = 1f, beta = accumulate ? 1f : 0f;
        var h = plan.Heuristic;
        Check.ThrowIfFailed(api.cublasLtMatmul(_lt, plan.Desc, &alpha, a, plan.LayoutA, b, plan.LayoutB, &beta, d, plan.LayoutC, d, plan.LayoutC,
            h.Algo, _workspace, (nuint)WorkspaceBytes, _stream));
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
            ulong ws = WorkspaceBytes;
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

    /// <summary>Destroys the cached plans and the handle (the context must be current).</summary>
    public void Dispose()
    {
        foreach (var plan in _plans.Values)
            if (plan != null) DestroyPlan(plan);
        _plans.Clear();
        CublasLt.Api.cublasLtDestroy(_lt);
    }
}
