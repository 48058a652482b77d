using System.Runtime.InteropServices;

namespace RlhfCore.Backends.Native;

/// <summary>Raised when the CUDA driver, NVRTC or cuBLASLt cannot be loaded or no CUDA device is usable.</summary>
public sealed class CudaUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Finds a shared library by trying candidate file names, first in the directories named by
/// <c>$RLHF_CUDA_LIB_DIRS</c> (colon-separated), then on the loader's default search path, then in
/// the usual toolkit folders. Failure lists every place tried, so the fix is obvious.
/// </summary>
internal static class NativeLoader
{
    /// <summary>Environment variable with extra directories to search first.</summary>
    public const string LibDirsVariable = "RLHF_CUDA_LIB_DIRS";

    private static readonly string[] ToolkitDirs =
    [
        "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/cuda/targets/sbsa-linux/lib",
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/wsl/lib", "/usr/lib64",
    ];

    /// <summary>Loads the first of <paramref name="names"/> that exists, or throws naming what and where.</summary>
    /// <param name="what">Human name of the library (for example "NVRTC").</param>
    /// <param name="names">File names to try, preferred first.</param>
    public static nint Load(string what, IReadOnlyList<string> names)
    {
        var tried = new List<string>();
        var extraDirs = (Environment.GetEnvironmentVariable(LibDirsVariable) ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries);
        foreach (string dir in extraDirs)
            foreach (string name in names)
                if (TryPath(Path.Combine(dir, name), tried, out nint h)) return h;
        foreach (string name in names)
        {
            tried.Add(name + " (default search path)");
            if (NativeLibrary.TryLoad(name, out nint h)) return h;
        }
        foreach (string dir in ToolkitDirs)
            foreach (string name in names)
                if (TryPath(Path.Combine(dir, name), tried, out nint h)) return h;
        throw new CudaUnavailableException(
            $"{what} is not available: none of [{string.Join(", ", names)}] could be loaded. Tried: {string.Join("; ", tried)}. " +
            $"Install the NVIDIA driver / CUDA toolkit, or set {LibDirsVariable} to the folder holding the library.");
    }

    private static bool TryPath(string path, List<string> tried, out nint handle)
    {
        handle = 0;
        if (!File.Exists(path)) return false;
        tried.Add(path);
        return NativeLibrary.TryLoad(path, out handle);
    }

    /// <summary>The address of <paramref name="symbol"/> in <paramref name="lib"/>, or a clear error.</summary>
    public static nint Export(nint lib, string what, string symbol) =>
        NativeLibrary.TryGetExport(lib, symbol, out nint p)
            ? p
            : throw new CudaUnavailableException($"{what} was loaded but has no symbol '{symbol}' (library too old?)");
}
