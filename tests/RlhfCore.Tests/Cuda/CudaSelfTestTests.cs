using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;

namespace RlhfCore.Tests.Cuda;

/// <summary>
/// Every CUDA op against the CPU backend through <see cref="BackendSelfTest"/> (the same checks as
/// <c>rlhf selftest --device cuda</c>), with a synchronize-and-check after every launch. Skipped with the
/// reason where there is no CUDA device.
/// </summary>
[TestFixture, Category("Gpu"), NonParallelizable]
public sealed class CudaSelfTestTests
{
    private CudaBackend? _cuda;
    private CpuBackend? _cpu;

    [OneTimeSetUp]
    public void Open()
    {
        if (!CudaBackend.IsAvailable(out string reason)) Assert.Ignore("no CUDA device: " + reason);
        _cuda = new CudaBackend { SyncCheck = true };
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
    public void OpMatchesCpu([ValueSource(nameof(Ops))] string op)
    {
        var rows = new BackendSelfTest(_cuda!, _cpu!, seed: 7).Run(op);
        TestContext.Out.WriteLine(BackendSelfTest.Format(rows));
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Kernel} {r.Shape}: {r.MaxRelError:g3} > {r.Tolerance:g3} {r.Note}"), Is.Empty);
    }

    /// <summary>Every entry point of every .cu loads on this device and uses no local memory (no spills).</summary>
    [Test]
    public void KernelsLoadWithoutSpills()
    {
        foreach (string module in KernelSources.CudaModules)
            foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(
                         KernelSources.CudaSource(module), @"extern ""C"" __global__ void (\w+)"))
            {
                var k = _cuda!.Kernel(module, m.Groups[1].Value);
                TestContext.Out.WriteLine(k.ToString());
                Assert.That(k.LocalBytes, Is.Zero, $"{k} spills to local memory");
            }
    }

    [Test]
    public void TransfersRoundTripAcrossStagingChunks()
    {
        var data = Enumerable.Range(0, (9 << 20) / 4 * 3 + 5).Select(i => (float)i).ToArray();
        using var buf = _cuda!.Allocate(data.Length * 4L);
        var t = buf.AsTensor(Tensors.DType.F32, data.Length);
        _cuda.Upload<float>(t, data);
        var back = new float[data.Length];
        _cuda.Download<float>(t, back);
        Assert.That(back, Is.EqualTo(data));
    }
}
