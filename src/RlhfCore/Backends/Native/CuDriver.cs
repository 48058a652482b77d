using System.Runtime.InteropServices;

namespace RlhfCore.Backends.Native;

/// <summary>CUresult values this code names; any other value is reported through cuGetErrorName.</summary>
internal enum CuResult
{
    /// <summary>CUDA_SUCCESS.</summary>
    Success = 0,
    /// <summary>CUDA_ERROR_NO_DEVICE.</summary>
    NoDevice = 100,
}

/// <summary>Device attributes read by the backend (values of CUdevice_attribute).</summary>
internal enum CuDeviceAttribute
{
    ClockRate = 13,
    MultiprocessorCount = 16,
    MemoryClockRate = 36,
    GlobalMemoryBusWidth = 37,
    ComputeCapabilityMajor = 75,
    ComputeCapabilityMinor = 76,
    MaxSharedMemoryPerBlockOptin = 97,
}

/// <summary>Function attributes (values of CUfunction_attribute).</summary>
internal enum CuFunctionAttribute
{
    LocalSizeBytes = 3,
    NumRegs = 4,
    MaxDynamicSharedSizeBytes = 8,
}

/// <summary>
/// The CUDA driver API (libcuda.so.1), bound by function pointer at first use. Only the calls the
/// backend needs; names and signatures as in cuda.h (the _v2 entry points where they exist).
/// </summary>
internal sealed unsafe class CuDriver
{
    private static readonly Lazy<CuDriver> Instance = new(() => new CuDriver());

    /// <summary>The loaded driver API; throws <see cref="CudaUnavailableException"/> when libcuda is missing.</summary>
    public static CuDriver Api => Instance.Value;

    public readonly delegate* unmanaged<uint, CuResult> cuInit;
    public readonly delegate* unmanaged<int*, CuResult> cuDriverGetVersion;
    public readonly delegate* unmanaged<int*, CuResult> cuDeviceGetCount;
    public readonly delegate* unmanaged<int*, int, CuResult> cuDeviceGet;
    public readonly delegate* unmanaged<int*, CuDeviceAttribute, int, CuResult> cuDeviceGetAttribute;
    public readonly delegate* unmanaged<byte*, int, int, CuResult> cuDeviceGetName;
    public readonly delegate* unmanaged<nuint*, int, CuResult> cuDeviceTotalMem;
    public readonly delegate* unmanaged<nint*, int, CuResult> cuDevicePrimaryCtxRetain;
    public readonly delegate* unmanaged<int, CuResult> cuDevicePrimaryCtxRelease;
    public readonly delegate* unmanaged<nint, CuResult> cuCtxSetCurrent;
    public readonly delegate* unmanaged<nint*, nuint, CuResult> cuMemAlloc;
    public readonly delegate* unmanaged<nint, CuResult> cuMemFree;
    public readonly delegate* unmanaged<void**, nuint, CuResult> cuMemAllocHost;
    public readonly delegate* unmanaged<void*, CuResult> cuMemFreeHost;
    public readonly delegate* unmanaged<nint, void*, nuint, nint, CuResult> cuMemcpyHtoDAsync;
    public readonly delegate* unmanaged<void*, nint, nuint, nint, CuResult> cuMemcpyDtoHAsync;
    public readonly delegate* unmanaged<nint, nint, nuint, nint, CuResult> cuMemcpyDtoDAsync;
    public readonly delegate* unmanaged<nint, byte, nuint, nint, CuResult> cuMemsetD8Async;
    public readonly delegate* unmanaged<nint, uint, nuint, nint, CuResult> cuMemsetD32Async;
    public readonly delegate* unmanaged<nint*, uint, CuResult> cuStreamCreate;
    public readonly delegate* unmanaged<nint, CuResult> cuStreamDestroy;
    public readonly delegate* unmanaged<nint, CuResult> cuStreamSynchronize;
    public readonly delegate* unmanaged<nint*, void*, uint, int*, void**, CuResult> cuModuleLoadDataEx;
    public readonly delegate* unmanaged<nint, CuResult> cuModuleUnload;
    public readonly delegate* unmanaged<nint*, nint, byte*, CuResult> cuModuleGetFunction;
    public readonly delegate* unmanaged<nint, CuFunctionAttribute, int, CuResult> cuFuncSetAttribute;
    public readonly delegate* unmanaged<int*, CuFunctionAttribute, nint, CuResult> cuFuncGetAttribute;
    public readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, CuResult> cuLaunchKernel;
    public readonly delegate* unmanaged<nint*, uint, CuResult> cuEventCreate;
    public readonly delegate* unmanaged<nint, CuResult> cuEventDestroy;
    public readonly delegate* unmanaged<nint, nint, CuResult> cuEventRecord;
    public readonly delegate* unmanaged<nint, CuResult> cuEventSynchronize;
    public readonly delegate* unmanaged<float*, nint, nint, CuResult> cuEventElapsedTime;
    public readonly delegate* unmanaged<CuResult, byte**, CuResult> cuGetErrorName;
    public readonly delegate* unmanaged<CuResult, byte**, CuResult> cuGetErrorString;

    private CuDriver()
    {
        const string What = "The CUDA driver (libcuda)";
        nint lib = NativeLoader.Load(What, ["libcuda.so.1", "libcuda.so", "nvcuda.dll"]);
        nint F(string s) => NativeLoader.Export(lib, What, s);
        cuInit = (delegate* unmanaged<uint, CuResult>)F("cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, CuResult>)F("cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, CuResult>)F("cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, CuResult>)F("cuDeviceGet");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, CuDeviceAttribute, int, CuResult>)F("cuDeviceGetAttribute");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, CuResult>)F("cuDeviceGetName");
        cuDeviceTotalMem = (delegate* unmanaged<nuint*, int, CuResult>)F("cuDeviceTotalMem_v2");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, CuResult>)F("cuDevicePrimaryCtxRetain");
        cuDevicePrimaryCtxRelease = (delegate* unmanaged<int, CuResult>)F("cuDevicePrimaryCtxRelease_v2");
        cuCtxSetCurrent = (delegate* unmanaged<nint, CuResult>)F("cuCtxSetCurrent");
        cuMemAlloc = (delegate* unmanaged<nint*, nuint, CuResult>)F("cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<nint, CuResult>)F("cuMemFree_v2");
        cuMemAllocHost = (delegate* unmanaged<void**, nuint, CuResult>)F("cuMemAllocHost_v2");
        cuMemFreeHost = (delegate* unmanaged<void*, CuResult>)F("cuMemFreeHost");
        cuMemcpyHtoDAsync = (delegate* unmanaged<nint, void*, nuint, nint, CuResult>)F("cuMemcpyHtoDAsync_v2");
        cuMemcpyDtoHAsync = (delegate* unmanaged<void*, nint, nuint, nint, CuResult>)F("cuMemcpyDtoHAsync_v2");
        cuMemcpyDtoDAsync = (delegate* unmanaged<nint, nint, nuint, nint, CuResult>)F("cuMemcpyDtoDAsync_v2");
        cuMemsetD8Async = (delegate* unmanaged<nint, byte, nuint, nint, CuResult>)F("cuMemsetD8Async");
        cuMemsetD32Async = (delegate* unmanaged<nint, uint, nuint, nint, CuResult>)F("cuMemsetD32Async");
        cuStreamCreate = (delegate* unmanaged<nint*, uint, CuResult>)F("cuStreamCreate");
        cuStreamDestroy = (delegate* unmanaged<nint, CuResult>)F("cuStreamDestroy_v2");
        cuStreamSynchronize = (delegate* unmanaged<nint, CuResult>)F("cuStreamSynchronize");
        cuModuleLoadDataEx = (delegate* unmanaged<nint*, void*, uint, int*, void**, CuResult>)F("cuModuleLoadDataEx");
        cuModuleUnload = (delegate* unmanaged<nint, CuResult>)F("cuModuleUnload");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, CuResult>)F("cuModuleGetFunction");
        cuFuncSetAttribute = (delegate* unmanaged<nint, CuFunctionAttribute, int, CuResult>)F("cuFuncSetAttribute");
        cuFuncGetAttribute = (delegate* unmanaged<int*, CuFunctionAttribute, nint, CuResult>)F("cuFuncGetAttribute");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, CuResult>)F("cuLaunchKernel");
        cuEventCreate = (delegate* unmanaged<nint*, uint, CuResult>)F("cuEventCreate");
        cuEventDestroy = (delegate* unmanaged<nint, CuResult>)F("cuEventDestroy_v2");
        cuEventRecord = (delegate* unmanaged<nint, nint, CuResult>)F("cuEventRecord");
        cuEventSynchronize = (delegate* unmanaged<nint, CuResult>)F("cuEventSynchronize");
        cuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, CuResult>)F("cuEventElapsedTime");
        cuGetErrorName = (delegate* unmanaged<CuResult, byte**, CuResult>)F("cuGetErrorName");
        cuGetErrorString = (delegate* unmanaged<CuResult, byte**, CuResult>)F("cuGetErrorString");
    }

    /// <summary>The symbolic name of <paramref name="r"/> (CUDA_ERROR_...), or its number.</summary>
    public static string ErrorName(CuResult r)
    {
        byte* s = null;
        return Api.cuGetErrorName(r, &s) == CuResult.Success && s != null ? Marshal.PtrToStringUTF8((nint)s)! : $"CUresult {(int)r}";
    }

    /// <summary>The driver's description of <paramref name="r"/>.</summary>
    public static string ErrorString(CuResult r)
    {
        byte* s = null;
        return Api.cuGetErrorString(r, &s) == CuResult.Success && s != null ? Marshal.PtrToStringUTF8((nint)s)! : "unknown error";
    }
}
