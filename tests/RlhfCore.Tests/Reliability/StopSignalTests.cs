using RlhfCore.Tests.IO;
using static RlhfCore.Tests.Reliability.RlhfProcess;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Issue 12, finding 7 (signals): SIGTERM, what schedulers, <c>timeout</c> and container stops send, saves a
/// checkpoint exactly as Ctrl-C (SIGINT) does; the exit code says which arrived (143 and 130, as shells report).
/// </summary>
[Platform(Exclude = "Win", Reason = "delivers POSIX signals with kill(2)")]
public class StopSignalTests
{
    [TestCase(SigTerm, 143)]
    [TestCase(SigInt, 130)]
    public void StopSignal_FinishesTheStep_SavesACheckpoint_AndExitsWithItsCode(int signal, int exitCode)
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string run = dir.File("run");
        string metrics = Path.Combine(run, "metrics.jsonl");
        using (var p = Start(Sft(shard, run, steps: 1_000_000, checkpointEvery: 0)))
        {
            // Signal once training is under way (a few metric rows written), long before the last step.
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!(File.Exists(metrics) && ReadShared(metrics).Length > 3) && !p.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);
            p.Signal(signal);
            Assert.That(p.Wait(), Is.EqualTo(exitCode), p.Output);
            Assert.That(Flat(p.Output), Does.Contain("checkpoint saved to").And.Contain("continue with --resume"));
        }
        string latest = File.ReadAllText(Path.Combine(run, "checkpoint", "latest")).Trim();
        int saved = int.Parse(latest["step-".Length..]);
        Assert.That(saved, Is.GreaterThan(3).And.LessThan(1_000_000));

        var (code, output) = Run(Sft(shard, run, steps: saved + 2, checkpointEvery: 0, "--resume"));
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(Flat(output), Does.Contain($"at step {saved}"));
    }

    private static string[] ReadShared(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return new StreamReader(fs).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }
}
