using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Ilgpu;
using RlhfCore.Backends.Verification;

namespace RlhfCore.Tests.Cuda;

/// <summary>
/// Every ILGPU kernel family on CUDA against the CPU backend (the checks of <c>rlhf selftest --device
/// cuda-ilgpu</c>, with every launch of the hand-written PTX synchronized and checked). Ignored with the
/// reason where there is no CUDA device: this is the check the ILGPU backend has not had yet.
/// </summary>
[TestFixture, Category("Gpu"), NonParallelizable]
public sealed class IlgpuCudaSelfTestTests
{
    private IlgpuBackend? _cuda;
    private CpuBackend? _cpu;

    [OneTimeSetUp]
    public void Open()
    {
        if (!IlgpuBackend.IsCudaAvailable(out string reason)) Assert.Ignore("no CUDA device for the ILGPU backend: " + reason);
        _cuda = new IlgpuBackend(IlgpuAcceleratorKind.Cuda) { SyncCheck = true };
        _cpu = new CpuBackend(Math.Max(2, Environment.ProcessorCount));
    }

    [OneTimeTearDown]
    public void Close()
    {
        _cuda?.Dispose();
        _cpu?.Dispose();
    }

    public static IEnumerable<string> Ops => BackendSelfTest.Ops;

    [Test]
    public void FamilyMatchesCpu([ValueSource(nameof(Ops))] string op)
    {
        var rows = new BackendSelfTest(_cuda!, _cpu!, seed: 7).Run(op);
        TestContext.Out.WriteLine(BackendSelfTest.Format(rows));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Kernel} {r.Shape}: {r.MaxRelError:g3} > {r.Tolerance:g3} {r.Note}"), Is.Empty);
    }
}
