using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Cuda;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf selftest</c>: every kernel of a backend against the CPU backend on fresh random inputs of
/// several shapes (odd sizes included); prints a table and exits non-zero on any failure.
/// </summary>
internal static class SelfTestCommand
{
    public static Command Create()
    {
        var cmd = new Command("selftest", "Check every kernel of a backend against the CPU backend");
        var device = new Option<string>("--device") { Description = "Backend to test: cuda (NVRTC), cuda-ilgpu, ilgpu-cpu (tiny shapes; the PTX ops run the CPU backend's code there), or cpu (against itself)", DefaultValueFactory = _ => "cuda" };
        var op = new Option<string?>("--op") { Description = "Test only this kernel family: " + string.Join(", ", BackendSelfTest.Ops) };
        var seed = new Option<int>("--seed") { Description = "Seed of the random inputs", DefaultValueFactory = _ => 1234 };
        cmd.Add(device); cmd.Add(op); cmd.Add(seed);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            using var backend = BackendFactory.Create(r.GetValue(device)!, 0);
            if (backend is CudaBackend cuda) cuda.SyncCheck = true;
            if (backend is Backends.Ilgpu.IlgpuBackend ilgpu) ilgpu.SyncCheck = true;
            using var reference = new CpuBackend();
            AnsiConsole.MarkupLineInterpolated($"selftest of {backend.DeviceDescription} against {reference.DeviceDescription}");
            var rows = new BackendSelfTest(backend, reference, r.GetValue(seed)).Run(r.GetValue(op));
            Console.WriteLine(BackendSelfTest.Format(rows));
            int failed = rows.Count(x => !x.Pass), skipped = rows.Count(x => x.Skipped);
            Console.WriteLine($"{rows.Count - failed - skipped} passed, {failed} failed, {skipped} skipped");
            return failed == 0 ? 0 : 1;
        }));
        return cmd;
    }
}
