using System.Runtime.InteropServices;

namespace RlhfCore.Benchmarks;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c>, loaded at run time from libopenblas.so.0 — a comparator for our GEMM
/// only; the engine never depends on it. Install with <c>apt-get install -y libopenblas0-pthread</c>.
/// </summary>
internal static unsafe class OpenBlas
{
    /// <summary>CBLAS enum values.</summary>
    public const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;
    private static readonly delegate* unmanaged<int, void> s_setThreads;
    private static readonly delegate* unmanaged<sbyte*> s_coreName;

    static OpenBlas()
    {
        if (!NativeLibrary.TryLoad("libopenblas.so.0", out nint lib) && !NativeLibrary.TryLoad("libopenblas", out lib))
            throw new DllNotFoundException(
                "OpenBLAS (libopenblas.so.0) not found: it is the comparator for the GEMM benchmarks. " +
                "Install it with `apt-get update && apt-get install -y libopenblas0-pthread`.");
        s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(lib, "cblas_sgemm");
        s_setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(lib, "openblas_set_num_threads");
        s_coreName = NativeLibrary.TryGetExport(lib, "openblas_get_corename", out nint p) ? (delegate* unmanaged<sbyte*>)p : null;
    }

    /// <summary>Sets the number of threads OpenBLAS uses.</summary>
    public static void SetThreads(int threads) => s_setThreads(threads);

    /// <summary>The kernel family OpenBLAS picked for this CPU (for example "Haswell", "SkylakeX", "Zen").</summary>
    public static string CoreName => s_coreName == null ? "unknown" : new string(s_coreName());

    /// <summary>Row-major C = alpha·op(A)·op(B) + beta·C.</summary>
    public static void Sgemm(int transA, int transB, int m, int n, int k, float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => s_sgemm(RowMajor, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
