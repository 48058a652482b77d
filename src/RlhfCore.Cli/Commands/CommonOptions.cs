using System.CommandLine;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>Flags and error handling every command shares.</summary>
internal static class CommonOptions
{
    public static Option<string> Device() =>
        new("--device") { Description = "Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only)", DefaultValueFactory = _ => "cpu" };

    public static Option<int> Threads() =>
        new("--threads") { Description = "CPU threads (0 = all)", DefaultValueFactory = _ => 0 };

    /// <summary>
    /// Runs a command body and turns the errors users cause (bad files, bad flags, bad data) into one
    /// clear line and exit code 1, instead of a stack trace.
    /// </summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is ArgumentException or IOException or FormatException or InvalidDataException
                                      or InvalidOperationException or UnauthorizedAccessException or KeyNotFoundException
                                      or Backends.Native.CudaUnavailableException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {e.Message}");
            return 1;
        }
    }
}
