using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Verification;

namespace RlhfCore.Tests.Kernels.Ilgpu;

/// <summary>
/// <c>rlhf selftest --device ilgpu-cpu</c>'s checks, run here: every kernel family of the ILGPU backend on the
/// CPU accelerator against the CPU backend, at the self-test's shapes that fit the CPU accelerator.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuSelfTestTests
{
    [Test]
    public void EveryFamilyPassesAgainstTheCpuBackend()
    {
        using var reference = new CpuBackend(2);
        var rows = new BackendSelfTest(KernelBackends.Get(KernelBackends.IlgpuCpu), reference, seed: 7).Run();
        Assert.That(rows.Where(r => !r.Pass).Select(r => $"{r.Kernel} {r.Shape}: {r.MaxRelError:g3} {r.Note}"), Is.Empty, BackendSelfTest.Format(rows));
        foreach (string family in BackendSelfTest.Ops)
            Assert.That(rows.Any(r => !r.Skipped && r.Kernel.StartsWith(family, StringComparison.Ordinal)), $"no {family} check ran at a CPU-accelerator shape");
        var ptxRows = rows.Where(r => !r.Skipped && (r.Kernel.StartsWith("ppo_loss") || r.Kernel.StartsWith("gae") || r.Kernel is "attention_forward" or "attention_backward")).ToList();
        Assert.That(ptxRows, Is.Not.Empty);
        Assert.That(ptxRows.Select(r => r.Note), Has.All.Contains("CPU backend's code"), "the PTX ops' rows say they ran the CPU backend's code");
    }
}
