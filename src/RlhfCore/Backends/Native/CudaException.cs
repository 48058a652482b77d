using System.Runtime.CompilerServices;

namespace RlhfCore.Backends.Native;

/// <summary>A failed CUDA driver, NVRTC or cuBLASLt call: the call text, the error's name and its description.</summary>
public sealed class CudaException(string message, string call, int code) : Exception(message)
{
    /// <summary>The source text of the failed call.</summary>
    public string Call { get; } = call;

    /// <summary>The numeric status the library returned.</summary>
    public int Code { get; } = code;
}

/// <summary>Status checks shared by the bindings.</summary>
internal static class Check
{
    /// <summary>Throws a <see cref="CudaException"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public static void ThrowIfFailed(CuResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result == CuResult.Success) return;
        string name = CuDriver.ErrorName(result), text = CuDriver.ErrorString(result);
        throw new CudaException($"CUDA driver call failed: {call} returned {name} ({(int)result}): {text}", call, (int)result);
    }

    /// <summary>Throws unless <paramref name="result"/> is NVRTC_SUCCESS.</summary>
    public static void ThrowIfFailed(NvrtcResult result, [CallerArgumentExpression(nameof(result))] string call = "")
    {
        if (result == NvrtcResult.Success) return;
        throw new CudaException($"NVRTC call failed: {call} returned {Nvrtc.ErrorString(result)} ({(int)result})", call, (int)result);
    }

    /// <summary>Throws unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    public static void ThrowIfFailed(CublasStatus status, [CallerArgumentExpression(nameof(status))] string call = "")
    {
        if (status == CublasStatus.Success) return;
        throw new CudaException($"cuBLASLt call failed: {call} returned {status} ({(int)status})", call, (int)status);
    }
}
