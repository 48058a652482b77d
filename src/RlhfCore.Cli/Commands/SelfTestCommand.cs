using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;
using RlhfCore.Cli.Options;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf selftest</c>: every kernel of a backend against the CPU backend on fresh random inputs of
/// several shapes (odd sizes included); prints a table and exits non-zero on any failure.
/// </summary>
internal static class SelfTestCommand
{
    public static Command Create() => OptionsCommand.Create<SelfTestOptions>(
        new Command("selftest", "Check every kernel of a backend against the CPU backend"), o => o.Validate(), Run);

    private static int Run(SelfTestOptions o)
    {
        using var backend = BackendFactory.Create(o.Device, 0);
        if (backend is CudaBackend cuda) cuda.SyncCheck = true;
        if (backend is Backends.Ilgpu.IlgpuBackend ilgpu) ilgpu.SyncCheck = true;
        using var reference = new CpuBackend();
        AnsiConsole.MarkupLineInterpolated($"selftest of {backend.DeviceDescription} against {reference.DeviceDescription}");
        var rows = new BackendSelfTest(backend, reference, o.Seed).Run(o.Op);
        Console.WriteLine(BackendSelfTest.Format(rows));
        int failed = rows.Count(x => !x.Pass), skipped = rows.Count(x => x.Skipped);
        Console.WriteLine($"{rows.Count - failed - skipped} passed, {failed} failed, {skipped} skipped");
        return failed == 0 ? 0 : 1;
    }
}
