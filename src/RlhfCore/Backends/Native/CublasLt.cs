using System.Runtime.InteropServices;

namespace RlhfCore.Backends.Native;

/// <summary>cublasStatus_t values.</summary>
internal enum CublasStatus
{
    Success = 0,
    NotInitialized = 1,
    AllocFailed = 3,
    InvalidValue = 7,
    ArchMismatch = 8,
    MappingError = 11,
    ExecutionFailed = 13,
    InternalError = 14,
    NotSupported = 15,
}

/// <summary>cublasLtMatmulDescAttributes_t values used here.</summary>
internal enum CublasLtMatmulDescAttribute
{
    TransA = 3,
    TransB = 4,
    Epilogue = 7,
    BiasPointer = 8,
}

/// <summary>cublasLtMatmulPreferenceAttributes_t values used here.</summary>
internal enum CublasLtPreferenceAttribute
{
    MaxWorkspaceBytes = 1,
    MinAlignmentABytes = 5,
    MinAlignmentBBytes = 6,
    MinAlignmentCBytes = 7,
    MinAlignmentDBytes = 8,
}

/// <summary>cublasLtMatmulHeuristicResult_t (96 bytes): the opaque algorithm, its workspace and status.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CublasLtHeuristicResult
{
    public fixed ulong Algo[8];
    public nuint WorkspaceSize;
    public CublasStatus State;
    public float WavesCount;
    public fixed int Reserved[4];
}

/// <summary>cuBLASLt, bound by function pointer at first use. Optional: without it GEMMs use our own kernel.</summary>
internal sealed unsafe class CublasLt
{
    /// <summary>cublasComputeType_t CUBLAS_COMPUTE_32F_FAST_TF32: fp32 data, TF32 tensor-core math.</summary>
    public const int ComputeTf32 = 77;
    /// <summary>cudaDataType_t CUDA_R_32F.</summary>
    public const int R32F = 0;
    /// <summary>cublasOperation_t.</summary>
    public const int OpN = 0, OpT = 1;
    /// <summary>cublasLtEpilogue_t.</summary>
    public const int EpilogueDefault = 1, EpilogueBias = 4;

    /// <summary>Library names tried, newest first.</summary>
    public static readonly string[] LibraryNames =
        ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so.11", "libcublasLt.so", "cublasLt64_13.dll", "cublasLt64_12.dll", "cublasLt64_11.dll"];

    private static readonly Lazy<CublasLt> Instance = new(() => new CublasLt());

    /// <summary>The loaded cuBLASLt; throws <see cref="CudaUnavailableException"/> when it is missing.</summary>
    public static CublasLt Api => Instance.Value;

    public readonly delegate* unmanaged<nint*, CublasStatus> cublasLtCreate;
    public readonly delegate* unmanaged<nint, CublasStatus> cublasLtDestroy;
    public readonly delegate* unmanaged<nint*, int, int, CublasStatus> cublasLtMatmulDescCreate;
    public readonly delegate* unmanaged<nint, CublasStatus> cublasLtMatmulDescDestroy;
    public readonly delegate* unmanaged<nint, CublasLtMatmulDescAttribute, void*, nuint, CublasStatus> cublasLtMatmulDescSetAttribute;
    public readonly delegate* unmanaged<nint*, int, ulong, ulong, long, CublasStatus> cublasLtMatrixLayoutCreate;
    public readonly delegate* unmanaged<nint, CublasStatus> cublasLtMatrixLayoutDestroy;
    public readonly delegate* unmanaged<nint*, CublasStatus> cublasLtMatmulPreferenceCreate;
    public readonly delegate* unmanaged<nint, CublasStatus> cublasLtMatmulPreferenceDestroy;
    public readonly delegate* unmanaged<nint, CublasLtPreferenceAttribute, void*, nuint, CublasStatus> cublasLtMatmulPreferenceSetAttribute;
    public readonly delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, CublasLtHeuristicResult*, int*, CublasStatus> cublasLtMatmulAlgoGetHeuristic;
    public readonly delegate* unmanaged<nint, nint, void*, nint, nint, nint, nint, void*, nint, nint, nint, nint, void*, nint, nuint, nint, CublasStatus> cublasLtMatmul;

    private CublasLt()
    {
        const string What = "cuBLASLt";
        nint lib = NativeLoader.Load(What, LibraryNames);
        nint F(string s) => NativeLoader.Export(lib, What, s);
        cublasLtCreate = (delegate* unmanaged<nint*, CublasStatus>)F("cublasLtCreate");
        cublasLtDestroy = (delegate* unmanaged<nint, CublasStatus>)F("cublasLtDestroy");
        cublasLtMatmulDescCreate = (delegate* unmanaged<nint*, int, int, CublasStatus>)F("cublasLtMatmulDescCreate");
        cublasLtMatmulDescDestroy = (delegate* unmanaged<nint, CublasStatus>)F("cublasLtMatmulDescDestroy");
        cublasLtMatmulDescSetAttribute = (delegate* unmanaged<nint, CublasLtMatmulDescAttribute, void*, nuint, CublasStatus>)F("cublasLtMatmulDescSetAttribute");
        cublasLtMatrixLayoutCreate = (delegate* unmanaged<nint*, int, ulong, ulong, long, CublasStatus>)F("cublasLtMatrixLayoutCreate");
        cublasLtMatrixLayoutDestroy = (delegate* unmanaged<nint, CublasStatus>)F("cublasLtMatrixLayoutDestroy");
        cublasLtMatmulPreferenceCreate = (delegate* unmanaged<nint*, CublasStatus>)F("cublasLtMatmulPreferenceCreate");
        cublasLtMatmulPreferenceDestroy = (delegate* unmanaged<nint, CublasStatus>)F("cublasLtMatmulPreferenceDestroy");
        cublasLtMatmulPreferenceSetAttribute = (delegate* unmanaged<nint, CublasLtPreferenceAttribute, void*, nuint, CublasStatus>)F("cublasLtMatmulPreferenceSetAttribute");
        cublasLtMatmulAlgoGetHeuristic = (delegate* unmanaged<nint, nint, nint, nint, nint, nint, nint, int, CublasLtHeuristicResult*, int*, CublasStatus>)F("cublasLtMatmulAlgoGetHeuristic");
        cublasLtMatmul = (delegate* unmanaged<nint, nint, void*, nint, nint, nint, nint, void*, nint, nint, nint, nint, void*, nint, nuint, nint, CublasStatus>)F("cublasLtMatmul");
    }
}
