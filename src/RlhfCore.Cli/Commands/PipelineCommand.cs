using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Training.Pipeline;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf pipeline</c>: the iterative loop (SFT → comparisons → preferences → reward model → policy
/// optimization → gold evaluation, for N rounds). Every flag is a field of <see cref="PipelineOptions"/>.
/// Rerunning with the same flags resumes at the first unfinished stage. <c>rlhf demo</c> is this with a
/// summary table at the end.
/// </summary>
internal static class PipelineCommand
{
    public static Command Create() => Build("pipeline", "The iterative RLHF loop over rounds of feedback and training (resumable)", demo: false);

    public static Command CreateDemo() => Build("demo",
        "The whole loop on the arithmetic task with a small model, then SFT vs RLHF on the gold reward", demo: true);

    private static Command Build(string name, string description, bool demo)
    {
        return OptionsCommand.Create<PipelineOptions>(new Command(name, description),
            o => (demo && o.OutDir == new PipelineOptions().OutDir ? o with { OutDir = "runs/demo" } : o).Validate(),
            o => Run(o, demo));
    }

    private static int Run(PipelineOptions o, bool demo)
    {
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        RunFiles.WriteConfig(o.OutDir, new { pipeline = o, device = backend.DeviceDescription });
        AnsiConsole.MarkupLineInterpolated($"[bold]{(demo ? "demo" : "pipeline")}[/] {o.Task}, {o.Rounds} rounds of {o.ComparisonsPerRound} comparisons, {o.Method}, {backend.DeviceDescription}; outputs in {o.OutDir}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var cancel = new StopSignals();
        void Log(string line) => AnsiConsole.MarkupLineInterpolated($"[grey]{clock.Elapsed:mm\\:ss}[/] {line}");
        try
        {
            if (o.Seeds.Trim().Length > 0)
            {
                var results = MultiSeedRunner.Run(o, backend, Log, cancel.Token);
                SummarizeSeeds(o, results);
                return cancel.IsCancellationRequested ? cancel.ExitCode : 0;
            }
            var (rounds, _) = new RlhfPipeline(o, backend, Log).Run(cancel.Token);
            if (cancel.IsCancellationRequested)
            {
                AnsiConsole.MarkupLineInterpolated($"interrupted by {cancel.SignalName}: finished stages are kept; run the same command again to continue");
                return cancel.ExitCode;
            }
            Summarize(o, rounds, clock.Elapsed);
            return 0;
        }
        catch (AwaitingLabelsException e)
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]waiting for labels:[/] {e.Message}");
            return 3;
        }
    }

    private static void Summarize(PipelineOptions o, IReadOnlyList<RoundSummary> rounds, TimeSpan elapsed)
    {
        bool accuracy = o.Task == "arithmetic";
        var table = new Table().AddColumns("policy", accuracy ? "gold accuracy (greedy)" : "gold reward (greedy)",
            accuracy ? "gold accuracy (sampled)" : "gold reward (sampled)", "reward-model held-out accuracy", "KL to SFT on eval samples (nats/seq)", "KL, last rollouts", "pairs");
        foreach (var s in rounds)
            table.AddRow(s.Round == 0 ? "SFT" : $"RLHF round {s.Round}", G(s.GoldGreedy, accuracy), G(s.GoldSampled, accuracy),
                double.IsNaN(s.RewardModelAccuracy) ? "-" : s.RewardModelAccuracy.ToString("P1"), Kl(s.SampledKl), Kl(s.Kl), $"{s.Pairs}");
        AnsiConsole.Write(table);
        var sft = rounds[0];
        var last = rounds[^1];
        AnsiConsole.MarkupLineInterpolated($"RLHF (round {last.Round}) vs SFT on the gold reward: sampled {G(last.GoldSampled, accuracy)} vs {G(sft.GoldSampled, accuracy)} ({Gain(last.GoldSampled - sft.GoldSampled, accuracy)}), greedy {G(last.GoldGreedy, accuracy)} vs {G(sft.GoldGreedy, accuracy)} ({Gain(last.GoldGreedy - sft.GoldGreedy, accuracy)}), in {elapsed:mm\\:ss}");
        AnsiConsole.MarkupLineInterpolated($"report: {Path.Combine(o.OutDir, "rounds.csv")}, {Path.Combine(o.OutDir, "curve.csv")}, {Path.Combine(o.OutDir, "overoptimization.svg")}");
    }

    private static void SummarizeSeeds(PipelineOptions o, IReadOnlyList<SeedResult> results)
    {
        bool accuracy = o.Task == "arithmetic";
        var table = new Table().AddColumns("seed", "SFT greedy", "SFT sampled", "RLHF greedy", "RLHF sampled", "RM held-out accuracy", "KL to SFT", "minutes", "CPU minutes");
        foreach (var r in results)
            table.AddRow($"{r.Seed}", G(r.SftGreedy, accuracy), G(r.SftSampled, accuracy), G(r.RlhfGreedy, accuracy), G(r.RlhfSampled, accuracy),
                double.IsNaN(r.RewardModelAccuracy) ? "-" : r.RewardModelAccuracy.ToString("P1"), double.IsNaN(r.Kl) ? "-" : r.Kl.ToString("F3"), r.Minutes.ToString("F1"), r.CpuMinutes.ToString("F1"));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLineInterpolated($"RLHF beats SFT on both gold measures on {results.Count(r => r.Wins)} of {results.Count} seeds; table in {Path.Combine(o.OutDir, "seeds.csv")}");
    }

    private static string Kl(double kl) => double.IsNaN(kl) ? "-" : kl.ToString("F3");

    private static string Gain(double gain, bool accuracy) =>
        (gain >= 0 ? "+" : "") + (accuracy ? $"{gain * 100:F1} points" : $"{gain:F3}");

    private static string G(double x, bool accuracy) => double.IsNaN(x) ? "-" : accuracy ? x.ToString("P1") : x.ToString("F3");
}
