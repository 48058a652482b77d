using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;
using RlhfCore.Backends.Ilgpu;
using RlhfCore.Backends.Native;

namespace RlhfCore.Backends;

/// <summary>Creates a backend from the <c>--device</c> option.</summary>
public static class BackendFactory
{
    /// <summary>The device names <see cref="Create"/> accepts, for help and error texts.</summary>
    public const string Devices = "cpu, cuda[:N] (CUDA C via NVRTC), cuda-ilgpu[:N] (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU's CPU accelerator)";

    /// <summary>
    /// "cpu" (with <paramref name="threads"/> worker threads, 0 = all cores); "cuda" or "cuda:N" (the NVRTC
    /// backend); "cuda-ilgpu" or "cuda-ilgpu:N" (the ILGPU backend on CUDA); "ilgpu-cpu" (the ILGPU backend on
    /// ILGPU's CPU accelerator: tiny models only). Throws <see cref="CudaUnavailableException"/> naming the
    /// reason when CUDA cannot be used.
    /// </summary>
    public static IBackend Create(string device, int threads = 0)
    {
        string d = device.Trim().ToLowerInvariant();
        if (d == "cpu") return new CpuBackend(threads);
        if (d == "ilgpu-cpu") return new IlgpuBackend(IlgpuAcceleratorKind.Cpu);
        if (d == "cuda" || d == "gpu") return OpenCuda(0, device);
        if (d == "cuda-ilgpu") return OpenCudaIlgpu(0, device);
        if (d.StartsWith("cuda-ilgpu:") && int.TryParse(d["cuda-ilgpu:".Length..], out int ilgpuIndex)) return OpenCudaIlgpu(ilgpuIndex, device);
        if (d.StartsWith("cuda:") && int.TryParse(d[5..], out int index)) return OpenCuda(index, device);
        throw new ArgumentException($"unknown device '{device}': use {Devices}", nameof(device));
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

    private static IlgpuBackend OpenCudaIlgpu(int index, string device)
    {
        try
        {
            return new IlgpuBackend(IlgpuAcceleratorKind.Cuda, index);
        }
        catch (CudaUnavailableException e)
        {
            throw new CudaUnavailableException($"--device {device}: CUDA is not available here. {e.Message} Use --device cpu (or ilgpu-cpu for the ILGPU kernels on the CPU).", e);
        }
    }
}
