using System.Reflection;

namespace RlhfCore.Backends.Cuda;

/// <summary>
/// The kernel sources embedded in this assembly: <c>kernels/cuda/*.cu</c> (compiled by NVRTC),
/// <c>kernels/cuda/*.cuh</c> (headers every .cu may include) and <c>kernels/ptx/*.ptx</c> (loaded by the
/// driver's JIT). Logical resource names are the repository paths, e.g. <c>kernels/cuda/residual.cu</c>.
/// </summary>
internal static class KernelSources
{
    private const string CudaPrefix = "kernels/cuda/", PtxPrefix = "kernels/ptx/";
    private static readonly Assembly Assembly = typeof(KernelSources).Assembly;
    private static readonly Lazy<(string Name, string Text)[]> HeaderList = new(() =>
        Assembly.GetManifestResourceNames().Where(n => n.StartsWith(CudaPrefix) && n.EndsWith(".cuh")).Order()
            .Select(n => (n[CudaPrefix.Length..], Read(n))).ToArray());

    /// <summary>Module names of the embedded .cu files ("residual" for kernels/cuda/residual.cu).</summary>
    public static IReadOnlyList<string> CudaModules =>
        Assembly.GetManifestResourceNames().Where(n => n.StartsWith(CudaPrefix) && n.EndsWith(".cu"))
            .Select(n => n[CudaPrefix.Length..^3]).Order().ToArray();

    /// <summary>Resource names of the embedded PTX files ("attention_fwd.ptx").</summary>
    public static IReadOnlyList<string> PtxFiles =>
        Assembly.GetManifestResourceNames().Where(n => n.StartsWith(PtxPrefix) && n.EndsWith(".ptx"))
            .Select(n => n[PtxPrefix.Length..]).Order().ToArray();

    /// <summary>The headers (name as included, text) passed to every NVRTC compile.</summary>
    public static IReadOnlyList<(string Name, string Text)> Headers => HeaderList.Value;

    /// <summary>The source of module <paramref name="module"/> (kernels/cuda/<paramref name="module"/>.cu).</summary>
    public static string CudaSource(string module) => Read(CudaPrefix + module + ".cu");

    /// <summary>The text of kernels/ptx/<paramref name="file"/>.</summary>
    public static string Ptx(string file) => Read(PtxPrefix + file);

    private static string Read(string logicalName)
    {
        using var s = Assembly.GetManifestResourceStream(logicalName)
            ?? throw new FileNotFoundException($"kernel source '{logicalName}' is not embedded in {Assembly.GetName().Name} " +
                "(is it listed as an EmbeddedResource in RlhfCore.csproj?)");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    }
}
