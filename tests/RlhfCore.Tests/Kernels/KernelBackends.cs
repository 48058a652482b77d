using RlhfCore.Backends;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Ilgpu;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The backends every kernel test class runs on: the CPU backend, the ILGPU backend on ILGPU's CPU
/// accelerator (in every CI run: the ILGPU kernels' only check without a GPU), and the ILGPU backend on
/// CUDA (category Gpu; ignored with the reason where there is no CUDA device). One instance of each is
/// shared by all tests, because opening an ILGPU backend compiles every kernel (seconds).
/// </summary>
public static class KernelBackends
{
    /// <summary>Device names, as <c>--device</c> spells them.</summary>
    public const string Cpu = "cpu", IlgpuCpu = "ilgpu-cpu", CudaIlgpu = "cuda-ilgpu";

    private static readonly Dictionary<string, IBackend> Shared = [];
    private static readonly Lazy<(bool Ok, string Reason)> CudaProbe = new(() => (IlgpuBackend.IsCudaAvailable(out string r), r));

    /// <summary>Fixture arguments for <c>[TestFixtureSource]</c>.</summary>
    public static IEnumerable<TestFixtureData> All
    {
        get
        {
            yield return new TestFixtureData(Cpu);
            yield return new TestFixtureData(IlgpuCpu);
            var cuda = new TestFixtureData(CudaIlgpu);
            cuda.Properties.Add(NUnit.Framework.Internal.PropertyNames.Category, "Gpu");
            yield return cuda;
        }
    }

    /// <summary>The shared backend for <paramref name="device"/>; ignores the test when CUDA is absent.</summary>
    public static IBackend Get(string device)
    {
        lock (Shared)
        {
            if (Shared.TryGetValue(device, out var b)) return b;
            if (device == CudaIlgpu && !CudaProbe.Value.Ok) Assert.Ignore($"no CUDA device for the ILGPU backend: {CudaProbe.Value.Reason}");
            b = device switch
            {
                Cpu => new CpuBackend(2),
                IlgpuCpu => new IlgpuBackend(IlgpuAcceleratorKind.Cpu),
                CudaIlgpu => new IlgpuBackend(IlgpuAcceleratorKind.Cuda),
                _ => throw new ArgumentException($"unknown test device {device}"),
            };
            return Shared[device] = b;
        }
    }

    /// <summary>Disposes the shared backends (after all tests).</summary>
    internal static void DisposeAll()
    {
        lock (Shared)
        {
            foreach (var b in Shared.Values) b.Dispose();
            Shared.Clear();
        }
    }
}

/// <summary>Disposes the shared kernel-test backends once every test has run.</summary>
[SetUpFixture]
public sealed class KernelBackendsTeardown
{
    [OneTimeTearDown]
    public void DisposeBackends() => KernelBackends.DisposeAll();
}

/// <summary>
/// Base of the kernel test classes: the backend under test, and the shape limit of ILGPU's CPU accelerator,
/// where every GPU thread is an OS thread (so the largest shapes are dropped there).
/// </summary>
public abstract class KernelFixture(string device)
{
    /// <summary>Elements of work above which a case is too slow for the CPU accelerator.</summary>
    public const long CpuAcceleratorLimit = 40_000;

    /// <summary>The device name of this fixture.</summary>
    protected string Device { get; } = device;

    /// <summary>The shared backend under test.</summary>
    protected IBackend Backend => KernelBackends.Get(Device);

    /// <summary>True on ILGPU's CPU accelerator.</summary>
    protected bool OnCpuAccelerator => Device == KernelBackends.IlgpuCpu;

    /// <summary>Ignores this case on the CPU accelerator when it does more than <see cref="CpuAcceleratorLimit"/> elements of work.</summary>
    protected void TinyOnCpuAccelerator(long work)
    {
        if (OnCpuAccelerator && work > CpuAcceleratorLimit)
            Assert.Ignore($"{work} elements is too large for ILGPU's CPU accelerator (one OS thread per GPU thread); the smaller cases cover it");
    }

    /// <summary>Ignores a test that checks a property of the CPU backend only.</summary>
    protected void CpuBackendOnly(string why)
    {
        if (Device != KernelBackends.Cpu) Assert.Ignore($"CPU backend only: {why}");
    }
}
