using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Cli.Options;
using RlhfCore.Model;
using RlhfCore.Training;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf bench</c>: times full training steps and prints the median ms/step and tokens/s; with <c>--telemetry-overhead</c>, the
/// same with and without telemetry every step; with <c>--optimizers</c>, the optimizer comparison of <see cref="OptimizerBench"/>.
/// Every flag is a field of <see cref="BenchOptions"/>.
/// </summary>
internal static class BenchCommand
{
    public static Command Create() => OptionsCommand.Create<BenchOptions>(
        new Command("bench", "Time full training steps (forward, backward, AdamW) of a randomly initialized model, or compare the optimizers (--optimizers)"), o => o.Validate(), Run);

    private static int Run(BenchOptions o)
    {
        if (o.Optimizers) return OptimizerBench.Run(o);
        var cfg = GptConfig.Preset(o.Config);
        int B = o.Batch, T = o.Seq;
        if (T > cfg.MaxSeqLen) throw new ArgumentException($"--seq {T} is longer than {o.Config}'s context of {cfg.MaxSeqLen}");
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        if (o.Kernels) KernelTable(backend);
        AnsiConsole.MarkupLineInterpolated($"[bold]bench[/] {o.Config} ({GptParameters.Count(GptParameters.Table(cfg)):N0} parameters), batch {B} × seq {T}, {backend.DeviceDescription}");
        if (o.TelemetryOverhead)
        {
            TelemetryOverhead(backend, cfg, o);
            return 0;
        }
        var result = StepBenchmark.Run(backend, cfg, B, T, o.Warmup, o.Steps, telemetryEvery: o.TelemetryEvery);
        if (o.TelemetryEvery > 0) AnsiConsole.MarkupLineInterpolated($"with optimizer telemetry every {o.TelemetryEvery} steps");
        var table = new Table().AddColumns("median ms/step", "min ms", "max ms", "tokens/s", "steps timed");
        table.AddRow($"{result.MedianMs:F1}", $"{result.StepMilliseconds.Min():F1}", $"{result.StepMilliseconds.Max():F1}",
            $"{result.TokensPerSecond:F0}", $"{result.StepMilliseconds.Length}");
        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>
    /// Median step time without telemetry and with telemetry, from one run of 2·--steps timed steps with telemetry on every
    /// second step: recorded and unrecorded steps interleave one by one on the same model, so drift in the machine's load
    /// falls on both alike (the cost of a recorded step is the cost of telemetry every step).
    /// </summary>
    private static void TelemetryOverhead(IBackend backend, GptConfig cfg, BenchOptions o)
    {
        var times = StepBenchmark.Run(backend, cfg, o.Batch, o.Seq, o.Warmup, 2 * o.Steps, telemetryEvery: 2).StepMilliseconds;
        // Timed step j is optimizer step warmup + j + 1 (no step is skipped: the gradients are finite); even steps are recorded.
        var off = times.Where((_, j) => (o.Warmup + j + 1) % 2 != 0).ToList();
        var on = times.Where((_, j) => (o.Warmup + j + 1) % 2 == 0).ToList();
        double a = StepBenchmarkResult.Median(off), b = StepBenchmarkResult.Median(on);
        var table = new Table().AddColumns("telemetry", "median ms/step", "min ms", "max ms", "steps timed");
        table.AddRow("off", $"{a:F1}", $"{off.Min():F1}", $"{off.Max():F1}", $"{off.Count}");
        table.AddRow("recorded step", $"{b:F1}", $"{on.Min():F1}", $"{on.Max():F1}", $"{on.Count}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"telemetry every step costs {100 * (b - a) / a:F1}% of the step time (medians of recorded and unrecorded steps, interleaved one by one)");
    }

    private static void KernelTable(IBackend backend)
    {
        double copy = BackendBench.CopyBandwidthGBps(backend);
        AnsiConsole.MarkupLineInterpolated($"device-to-device copy: {copy:F0} GB/s (bytes read + written)");
        var t = new Table().AddColumns("kernel", "shape", "median ms", "GB/s", "TFLOP/s", "of copy bw", "note");
        foreach (var row in BackendBench.Kernels(backend))
            t.AddRow(Markup.Escape(row.Kernel), Markup.Escape(row.Shape), F(row.MedianMs, "F4"), F(row.GBps, "F0"), F(row.Tflops, "F2"),
                F(row.FractionOfCopyBandwidth, "P0"), Markup.Escape(row.Note));
        AnsiConsole.Write(t);
    }

    private static string F(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
