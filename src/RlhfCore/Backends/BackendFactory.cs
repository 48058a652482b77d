using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;
using RlhfCore.Backends.Native;

namespace RlhfCore.Backends;

/// <summary>Creates a backend from the <c>--device</c> option.</summary>
public static class BackendFactory
{
    /// <summary>
    /// "cpu" (with <paramref name="threads"/> worker threads, 0 = all cores), "cuda" (device 0) or "cuda:N".
    /// Throws <see cref="CudaUnavailableException"/> naming the reason when CUDA cannot be used.
    /// </summary>
    public static IBackend Create(string device, int threads = 0)
    {
        string d = device.Trim().ToLowerInvariant();
        if (d == "cpu") return new CpuBackend(threads);
        if (d == "cuda" || d == "gpu") return OpenCuda(0, device);
        if (d.StartsWith("cuda:") && int.TryParse(d[5..], out int index)) return OpenCuda(index, device);
        throw new ArgumentException($"unknown device '{device}': use cpu, cuda or cuda:N", nameof(device));
    }

    private static CudaBackend OpenCuda(int index, string device)
    {
        try
        {
            return new CudaBackend(index);
        }
        catch (CudaUnavailableException e)
        {
            throw new CudaUnavailableException($"--device {device}: CUDA is not available here. {e.Message} Use --device cpu to run on the CPU.", e);
        }
    }
}
