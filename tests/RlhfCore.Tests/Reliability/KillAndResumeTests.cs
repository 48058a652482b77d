using RlhfCore.Tests.IO;
using static RlhfCore.Tests.Reliability.RlhfProcess;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// A training run killed at random moments (SIGKILL, which nothing can catch, and SIGTERM) and resumed each time
/// ends with exactly the model, optimizer state and per-step losses of an uninterrupted run, bit for bit, and leaves
/// no temporary files. The kill times
/// are random but logged with the seed, so a failure can be replayed. A longer soak: benchmarks/kill-soak.sh.
/// </summary>
[Platform(Exclude = "Win", Reason = "delivers POSIX signals with kill(2)")]
public class KillAndResumeTests
{
    private const int Steps = 200, CheckpointEvery = 10;

    [Test]
    public void KilledAndResumedRun_EqualsTheUninterruptedRun_BitForBit()
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string straight = dir.File("straight"), killed = dir.File("killed");
        var (code, output) = Run(Sft(shard, straight, Steps, CheckpointEvery));
        Assert.That(code, Is.EqualTo(0), output);

        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var log = new List<string> { $"seed {seed}" };
        int[] signals = [SigKill, SigTerm, SigKill, SigTerm, SigKill];
        bool done = false;
        for (int i = 0; i < signals.Length && !done; i++)
        {
            using var p = Start(Sft(shard, killed, Steps, CheckpointEvery, i == 0 ? [] : ["--resume"]));
            // The first kill waits for a checkpoint (before it there is nothing to resume); later ones land anywhere, start-up included.
            if (i == 0) WaitFor(Path.Combine(killed, "checkpoint", "latest"), p);
            int delayMs = rng.Next(100, 1200);
            Thread.Sleep(delayMs);
            p.Signal(signals[i]);
            int exit = p.Wait();
            log.Add($"{(signals[i] == SigKill ? "SIGKILL" : "SIGTERM")} after {delayMs} ms: exit {exit}, latest {File.ReadAllText(Path.Combine(killed, "checkpoint", "latest")).Trim()}");
            done = exit == 0; // the run finished before the signal
            if (!done) Assert.That(exit, Is.EqualTo(signals[i] == SigKill ? 137 : 143), string.Join("\n", log) + "\n" + p.Output);
        }
        if (!done)
        {
            (code, output) = Run(Sft(shard, killed, Steps, CheckpointEvery, "--resume"));
            Assert.That(code, Is.EqualTo(0), string.Join("\n", log) + "\n" + output);
        }

        string what = string.Join("\n", log);
        Assert.That(File.ReadAllBytes(Path.Combine(killed, "model.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(straight, "model.safetensors"))),
            "final model differs from the uninterrupted run's\n" + what);
        string last = Path.Combine("checkpoint", $"step-{Steps:D6}");
        Assert.That(File.ReadAllBytes(Path.Combine(killed, last, "optimizer.safetensors")), Is.EqualTo(File.ReadAllBytes(Path.Combine(straight, last, "optimizer.safetensors"))),
            "final AdamW moments differ\n" + what);
        Assert.That(Losses(killed), Is.EqualTo(Losses(straight)), "metrics.jsonl: one row per step, in order, the same losses\n" + what);
        Assert.That(Leftovers(killed), Is.Empty, what);
        TestContext.Out.WriteLine(what);
    }

    private static List<(long Step, double Loss)> Losses(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l =>
        {
            using var doc = System.Text.Json.JsonDocument.Parse(l);
            return (doc.RootElement.GetProperty("step").GetInt64(), doc.RootElement.GetProperty("loss").GetDouble());
        }).ToList();

    private static void WaitFor(string path, Running p)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!File.Exists(path) && !p.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(10);
        Assert.That(File.Exists(path), $"{path} did not appear\n{p.Output}");
    }
}
