using System.Security.Cryptography;
using System.Text;
using RlhfCore.Backends.Native;

namespace RlhfCore.Backends.Cuda;

/// <summary>
/// Compiles the embedded .cu modules with NVRTC for one GPU architecture and caches the CUBIN on disk,
/// keyed by the SHA-256 of (source, headers, architecture, options, NVRTC version), so a changed kernel,
/// device or compiler never reuses a stale binary. Cache folder: <c>$RLHF_CUDA_CACHE</c>, else
/// <c>~/.cache/rlhfcore/cuda</c>. Writes are atomic (temp file, then rename); an unwritable cache only
/// costs recompilation.
/// </summary>
internal static class CudaCompiler
{
    /// <summary>Environment variable naming the cache folder.</summary>
    public const string CacheVariable = "RLHF_CUDA_CACHE";

    /// <summary>The cache folder in use.</summary>
    public static string CacheDirectory =>
        Environment.GetEnvironmentVariable(CacheVariable) is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "rlhfcore", "cuda");

    /// <summary>
    /// NVRTC options for <paramref name="arch"/> ("sm_90" gives a CUBIN, "compute_80" PTX). No host headers
    /// are used: kernels rely only on NVRTC's built-ins and kernels/cuda/*.cuh.
    /// </summary>
    public static IReadOnlyList<string> Options(string arch) =>
        [$"--gpu-architecture={arch}", "-default-device", "--std=c++17", "-lineinfo", "-DRLHF_NVRTC=1"];

    /// <summary>The cache key of a compile: hex SHA-256 over everything that changes the binary.</summary>
    public static string CacheKey(string source, IReadOnlyList<(string Name, string Text)> headers, string arch, (int Major, int Minor) nvrtcVersion)
    {
        var sb = new StringBuilder();
        sb.Append(source).Append('\0');
        foreach (var (name, text) in headers) sb.Append(name).Append('\0').Append(text).Append('\0');
        sb.Append(arch).Append('\0').Append(string.Join(' ', Options(arch))).Append('\0').Append(nvrtcVersion.Major).Append('.').Append(nvrtcVersion.Minor);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }

    /// <summary>
    /// The binary of module <paramref name="module"/> for compute capability major.minor: a CUBIN for
    /// sm_XY, or (when this NVRTC predates the device) PTX for compute_80 that the driver JIT-compiles.
    /// </summary>
    public static byte[] Compile(string module, int major, int minor)
    {
        var nvrtc = Nvrtc.Api;
        var version = nvrtc.Version;
        string source = KernelSources.CudaSource(module);
        var headers = KernelSources.Headers;
        string arch = $"sm_{major}{minor}";
        string key = CacheKey(source, headers, arch, version);
        string path = Path.Combine(CacheDirectory, $"{module}-{key}.cubin");
        if (File.Exists(path)) return File.ReadAllBytes(path);
        byte[] image;
        try
        {
            image = nvrtc.Compile(source, module + ".cu", headers, Options(arch), cubin: true).Image;
        }
        catch (CudaException e) when (e.Code == 5 /* NVRTC_ERROR_INVALID_OPTION: unknown architecture */)
        {
            return nvrtc.Compile(source, module + ".cu", headers, Options("compute_80"), cubin: false).Image;
        }
        TryWrite(path, image);
        return image;
    }

    private static void TryWrite(string path, byte[] image)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string tmp = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllBytes(tmp, image);
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
