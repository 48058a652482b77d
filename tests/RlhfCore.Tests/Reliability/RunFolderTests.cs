using RlhfCore.Tests.IO;
using static RlhfCore.Tests.Reliability.RlhfProcess;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Issue 12, findings 1 and 2, through the real CLI: a fresh run never writes into (and so never prunes or mixes
/// with) an earlier run's folder; <c>--overwrite</c> moves the earlier run aside instead of deleting; a checkpoint
/// whose files do not all come from one save is refused on resume, naming the folder and the file; a failed save
/// leaves no temporary files or folders and the run still resumes.
/// </summary>
[Platform(Exclude = "Win", Reason = "runs the CLI as a Unix child process")]
public class RunFolderTests
{
    [Test]
    public void FreshRunInAnEarlierRunsFolder_IsRefusedAndTouchesNothing_OverwriteMovesItAside()
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string earlier = dir.File("ref");
        var (code, output) = Run(Sft(shard, earlier, steps: 12, checkpointEvery: 4));
        Assert.That(code, Is.EqualTo(0), output);
        var before = Snapshot(earlier);

        // The reproduction: the same command again in the finished run's folder (there, with Ctrl-C, it pruned its own checkpoint).
        (code, output) = Run(Sft(shard, earlier, steps: 3, checkpointEvery: 1, "--seed", "2"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("--resume").And.Contain("--out-dir").And.Contain("--overwrite").And.Contain("step-000012"));
        Assert.That(Snapshot(earlier), Is.EqualTo(before), "a refused start changes nothing: config.json, metrics and checkpoints stay the earlier run's");

        (code, output) = Run(Sft(shard, earlier, steps: 3, checkpointEvery: 1, "--seed", "2", "--overwrite"));
        Assert.That(code, Is.EqualTo(0), output);
        var aside = Directory.GetDirectories(dir.Path, "ref.replaced-*");
        Assert.That(aside, Has.Length.EqualTo(1), "the earlier run was moved aside");
        Assert.That(Flat(output), Does.Contain(aside[0]), "and the CLI said where");
        Assert.That(Snapshot(aside[0]), Is.EqualTo(before), "moved whole, not one byte changed");
        Assert.That(File.ReadAllText(Path.Combine(earlier, "checkpoint", "latest")).Trim(), Is.EqualTo("step-000003"));
        Assert.That(Directory.GetDirectories(Path.Combine(earlier, "checkpoint")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "step-000002", "step-000003" }));
    }

    [Test]
    public void CheckpointMixingTwoRuns_IsRefusedOnResume_NamingTheFolderAndTheFile()
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string one = dir.File("one"), two = dir.File("two");
        Assert.That(Run(Sft(shard, one, steps: 6, checkpointEvery: 0, "--seed", "1")).Code, Is.EqualTo(0));
        Assert.That(Run(Sft(shard, two, steps: 6, checkpointEvery: 0, "--seed", "2", "--lr", "0.01")).Code, Is.EqualTo(0));
        // What a second run writing file by file into the same step folder left behind: its model beside run one's optimizer.
        string step = Path.Combine(one, "checkpoint", "step-000006");
        File.Copy(Path.Combine(two, "checkpoint", "step-000006", "model.safetensors"), Path.Combine(step, "model.safetensors"), overwrite: true);

        var (code, output) = Run(Sft(shard, one, steps: 12, checkpointEvery: 0, "--seed", "1", "--resume"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("step-000006").And.Contain("model.safetensors"));
        Assert.That(File.Exists(Path.Combine(one, "checkpoint", "step-000012")), Is.False, "nothing trained from the mixed checkpoint");
    }

    [Test]
    public void SecondProcessOnTheFolderOfARunningRun_IsRefused()
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string run = dir.File("run");
        Assert.That(Run(Sft(shard, run, steps: 2, checkpointEvery: 0)).Code, Is.EqualTo(0));
        using var first = Start(Sft(shard, run, steps: 1_000_000, checkpointEvery: 0, "--resume"));
        string metrics = Path.Combine(run, "metrics.jsonl");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (File.ReadLines(metrics).Count() < 4 && !first.Process.HasExited && DateTime.UtcNow < deadline) Thread.Sleep(20);

        var (code, output) = Run(Sft(shard, run, steps: 5, checkpointEvery: 0, "--resume"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("another rlhf process"));
        first.Signal(SigTerm);
        Assert.That(first.Wait(), Is.EqualTo(143), first.Output);
    }

    [Test]
    public void FailedSave_LeavesNoTemporaryFilesOrFolders_AndTheRunStillResumes()
    {
        using var dir = new TempDir();
        string shard = Shard(dir.Path);
        string run = dir.File("run");
        Assert.That(Run(Sft(shard, run, steps: 4, checkpointEvery: 2)).Code, Is.EqualTo(0));
        // A write that fails mid-save, portably (root ignores permission bits): a file where the next step folder must go.
        string blocker = Path.Combine(run, "checkpoint", "step-000006");
        File.WriteAllText(blocker, "in the way");

        var (code, output) = Run(Sft(shard, run, steps: 8, checkpointEvery: 2, "--resume"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("step-000006"));
        Assert.That(Leftovers(run), Is.Empty, "no temporary file or folder survives the failure");
        Assert.That(File.ReadAllText(Path.Combine(run, "checkpoint", "latest")).Trim(), Is.EqualTo("step-000004"));

        File.Delete(blocker);
        (code, output) = Run(Sft(shard, run, steps: 8, checkpointEvery: 2, "--resume"));
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(File.ReadAllText(Path.Combine(run, "checkpoint", "latest")).Trim(), Is.EqualTo("step-000008"));
    }
}
