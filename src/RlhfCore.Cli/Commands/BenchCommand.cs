using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Model;
using RlhfCore.Training;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf bench</c>: times full training steps and prints the median ms/step and tokens/s.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var cmd = new Command("bench", "Time full training steps (forward, backward, AdamW) of a randomly initialized model");
        var config = new Option<string>("--config") { Description = "Model preset", DefaultValueFactory = _ => "gpt2-124m" };
        var batch = new Option<int>("--batch") { Description = "Rows per step", DefaultValueFactory = _ => 4 };
        var seq = new Option<int>("--seq") { Description = "Tokens per row", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up steps", DefaultValueFactory = _ => 2 };
        var kernels = new Option<bool>("--kernels") { Description = "Also time each kernel (GB/s or TFLOP/s, fraction of the copy bandwidth)" };
        var device = CommonOptions.Device();
        var threads = CommonOptions.Threads();
        foreach (var o in new Option[] { config, batch, seq, steps, warmup, kernels, device, threads }) cmd.Add(o);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            var cfg = GptConfig.Preset(r.GetValue(config)!);
            int B = r.GetValue(batch), T = r.GetValue(seq);
            if (T > cfg.MaxSeqLen) throw new ArgumentException($"--seq {T} is longer than {r.GetValue(config)}'s context of {cfg.MaxSeqLen}");
            using var backend = BackendFactory.Create(r.GetValue(device)!, r.GetValue(threads));
            if (r.GetValue(kernels)) KernelTable(backend);
            AnsiConsole.MarkupLine($"[bold]bench[/] {r.GetValue(config)} ({GptParameters.Count(GptParameters.Table(cfg)):N0} parameters), batch {B} × seq {T}, {backend.DeviceDescription}");
            var result = StepBenchmark.Run(backend, cfg, B, T, r.GetValue(warmup), r.GetValue(steps));
            var table = new Table().AddColumns("median ms/step", "min ms", "max ms", "tokens/s", "steps timed");
            table.AddRow($"{result.MedianMs:F1}", $"{result.StepMilliseconds.Min():F1}", $"{result.StepMilliseconds.Max():F1}",
                $"{result.TokensPerSecond:F0}", $"{result.StepMilliseconds.Length}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }

    private static void KernelTable(IBackend backend)
    {
        double copy = BackendBench.CopyBandwidthGBps(backend);
        AnsiConsole.MarkupLineInterpolated($"device-to-device copy: {copy:F0} GB/s (bytes read + written)");
        var t = new Table().AddColumns("kernel", "shape", "median ms", "GB/s", "TFLOP/s", "of copy bw", "note");
        foreach (var row in BackendBench.Kernels(backend))
            t.AddRow(row.Kernel, row.Shape, F(row.MedianMs, "F4"), F(row.GBps, "F0"), F(row.Tflops, "F2"), F(row.FractionOfCopyBandwidth, "P0"), Markup.Escape(row.Note));
        AnsiConsole.Write(t);
    }

    private static string F(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
