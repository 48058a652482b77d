using System.Diagnostics;
using System.Globalization;
using RlhfCore.Backends;
using RlhfCore.IO;

namespace RlhfCore.Training.Pipeline;

/// <summary>One seed's outcome: SFT against the last round's policy on the gold reward.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="SftGreedy">SFT's gold reward, greedy.</param>
/// <param name="SftSampled">SFT's gold reward, sampled at temperature 1.</param>
/// <param name="RlhfGreedy">The last round's policy's, greedy.</param>
/// <param name="RlhfSampled">The last round's policy's, sampled.</param>
/// <param name="RewardModelAccuracy">The last round's reward model's held-out accuracy.</param>
/// <param name="Kl">The last round's KL to SFT per sequence, measured on its samples for evaluation prompts (every method has it; rollout KL exists for the RL methods only).</param>
/// <param name="Minutes">Wall minutes this invocation spent on the seed (less when it resumed finished stages).</param>
/// <param name="CpuMinutes">CPU minutes the process spent on the seed, all threads together: beside the wall time, it shows
/// whether a slow seed was slow or shared the machine.</param>
public sealed record SeedResult(ulong Seed, double SftGreedy, double SftSampled, double RlhfGreedy, double RlhfSampled, double RewardModelAccuracy, double Kl, double Minutes, double CpuMinutes)
{
    /// <summary>True when RLHF beats SFT on both gold measures.</summary>
    public bool Wins => RlhfGreedy > SftGreedy && RlhfSampled > SftSampled;
}

/// <summary>
/// Runs the pipeline once per seed of <see cref="PipelineOptions.Seeds"/>, each in OUT/seed-N (so each
/// resumes on its own), and writes one table, OUT/seeds.csv, of SFT vs RLHF per seed.
/// </summary>
public static class MultiSeedRunner
{
    /// <summary>Runs (or resumes) every seed in order; stops after the seed in progress when <paramref name="cancel"/> fires.</summary>
    public static List<SeedResult> Run(PipelineOptions options, IBackend backend, Action<string> log, CancellationToken cancel)
    {
        var results = new List<SeedResult>();
        foreach (ulong seed in options.SeedList())
        {
            if (cancel.IsCancellationRequested) break;
            var o = options with { Seed = seed, Seeds = "", OutDir = Path.Combine(options.OutDir, $"seed-{seed}") };
            var clock = Stopwatch.StartNew();
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var (rounds, _) = new RlhfPipeline(o, backend, line => log($"seed {seed}: {line}")).Run(cancel);
            if (cancel.IsCancellationRequested) break;
            var sft = rounds[0];
            var last = rounds[^1];
            results.Add(new SeedResult(seed, sft.GoldGreedy, sft.GoldSampled, last.GoldGreedy, last.GoldSampled, last.RewardModelAccuracy, last.SampledKl, clock.Elapsed.TotalMinutes,
                (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMinutes));
            Write(Path.Combine(options.OutDir, "seeds.csv"), results);
        }
        return results;
    }

    /// <summary>Writes the table as CSV, atomically.</summary>
    public static void Write(string path, IReadOnlyList<SeedResult> results)
    {
        string F(double x) => double.IsNaN(x) ? "" : x.ToString("R", CultureInfo.InvariantCulture);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        AtomicFile.Write(path, s => s.Write(System.Text.Encoding.UTF8.GetBytes(
            "seed,sft_greedy,sft_sampled,rlhf_greedy,rlhf_sampled,reward_model_accuracy,kl,minutes,cpu_minutes,rlhf_wins\n"
            + string.Concat(results.Select(r => $"{r.Seed},{F(r.SftGreedy)},{F(r.SftSampled)},{F(r.RlhfGreedy)},{F(r.RlhfSampled)},{F(r.RewardModelAccuracy)},{F(r.Kl)},{F(r.Minutes)},{F(r.CpuMinutes)},{(r.Wins ? 1 : 0)}\n")))));
    }
}
