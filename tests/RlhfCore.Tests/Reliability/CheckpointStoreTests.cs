using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Core;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// <see cref="CheckpointStore"/> on its own: pruning never deletes the checkpoint <c>latest</c> names nor anything
/// newer (issue 12, finding 1: "keep the 2 newest by name" deleted a just-saved step-000118 beside an older run's
/// step-002000); a failed save leaves no trace; the manifest refuses a tampered, foreign, missing or extra file,
/// and a whole folder of another run, each time naming the folder and the file.
/// </summary>
public class CheckpointStoreTests
{
    private static readonly GptConfig Tiny = new(32, 8, 1, 1, 8);

    private sealed class Run : IDisposable
    {
        public readonly CpuBackend Backend = new(1);
        public readonly GptModel Model;
        public readonly AdamW Optimizer;

        public Run(ulong seed)
        {
            Model = new GptModel(Backend, Tiny);
            Model.InitializeWeights(seed);
            Optimizer = new AdamW(Model.Parameters, Model.Gradients, new AdamWOptions());
        }

        public string Save(CheckpointStore store, int step, Action<string>? extra = null) =>
            store.Save(Model, Optimizer, new TrainerState(step, step, new DataCursor(0, 0), null, 0), extra);

        public void Dispose()
        {
            Optimizer.Dispose();
            Model.Dispose();
            Backend.Dispose();
        }
    }

    [Test]
    public void Pruning_KeepsTheLatestCheckpointAndEverythingNewer()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        var earlier = new CheckpointStore(dir.Path);
        run.Save(earlier, 1950);
        run.Save(earlier, 2000);

        var rerun = new CheckpointStore(dir.Path);
        foreach (int step in new[] { 50, 100, 118 }) run.Save(rerun, step);

        string root = Path.Combine(dir.Path, "checkpoint");
        Assert.That(File.ReadAllText(Path.Combine(root, "latest")).Trim(), Is.EqualTo("step-000118"));
        Assert.That(Directory.GetDirectories(root).Select(Path.GetFileName),
            Is.EquivalentTo(new[] { "step-000100", "step-000118", "step-001950", "step-002000" }), "latest, the one before it, and the newer folders");
    }

    [Test]
    public void FailedSave_LeavesNoTemporaryFolder_AndLatestNamesTheCheckpointBefore()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        var store = new CheckpointStore(dir.Path);
        run.Save(store, 5);
        var e = Assert.Throws<IOException>(() => run.Save(store, 10, _ => throw new IOException("No space left on device")));
        Assert.That(e!.Message, Does.Contain("No space left"));
        string root = Path.Combine(dir.Path, "checkpoint");
        Assert.That(Directory.GetFileSystemEntries(root).Select(Path.GetFileName), Is.EquivalentTo(new[] { "latest", "step-000005" }));
        Assert.That(new CheckpointStore(dir.Path).LatestDirectory(), Is.EqualTo(Path.Combine(root, "step-000005")));
    }

    [TestCase("optimizer.safetensors")]
    [TestCase("state.json")]
    public void TamperedFile_IsRefused_NamingFolderAndFile(string file)
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        string step = run.Save(new CheckpointStore(dir.Path), 3);
        var bytes = File.ReadAllBytes(Path.Combine(step, file));
        bytes[^2] ^= 1;
        File.WriteAllBytes(Path.Combine(step, file), bytes);
        AssertRefused(dir.Path, step, file, "SHA-256");
    }

    [Test]
    public void FileFromAnotherRun_IsRefused_NamingFolderAndFile()
    {
        using var dir = new TempDir();
        using var other = new TempDir();
        using var one = new Run(1);
        using var two = new Run(2);
        string step = one.Save(new CheckpointStore(dir.Path), 3);
        string foreign = two.Save(new CheckpointStore(other.Path), 3);
        File.Copy(Path.Combine(foreign, "model.safetensors"), Path.Combine(step, "model.safetensors"), overwrite: true);
        AssertRefused(dir.Path, step, "model.safetensors", "another run");
    }

    [Test]
    public void MissingFile_IsRefused_NamingFolderAndFile()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        string step = run.Save(new CheckpointStore(dir.Path), 3);
        File.Delete(Path.Combine(step, "optimizer.safetensors"));
        AssertRefused(dir.Path, step, "optimizer.safetensors", "missing");
    }

    [Test]
    public void MissingManifestOrAnExtraFile_IsRefused()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        string step = run.Save(new CheckpointStore(dir.Path), 3);
        File.WriteAllText(Path.Combine(step, "rl_state.json"), "{}");
        AssertRefused(dir.Path, step, "rl_state.json", "not in manifest.json");
        File.Delete(Path.Combine(step, "rl_state.json"));
        File.Delete(Path.Combine(step, CheckpointManifest.FileName));
        AssertRefused(dir.Path, step, CheckpointManifest.FileName, "incomplete");
    }

    [Test]
    public void WholeCheckpointOfAnotherRun_IsRefused_ByTheFoldersRunId()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        new RunIdentity("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "sft", DateTime.UtcNow).Write(dir.Path);
        string step = run.Save(new CheckpointStore(dir.Path, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), 3);
        AssertRefused(dir.Path, step, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    }

    [Test]
    public void ResumeClaim_RemovesWhatKilledSavesLeft()
    {
        using var dir = new TempDir();
        using var run = new Run(1);
        run.Save(new CheckpointStore(dir.Path), 3);
        new RunIdentity(new CheckpointStore(dir.Path).RunId, "sft", DateTime.UtcNow).Write(dir.Path);
        string root = Path.Combine(dir.Path, "checkpoint");
        string guid = Guid.NewGuid().ToString("N");
        File.WriteAllText(Path.Combine(root, $".latest.{guid}.tmp"), "step-0000");
        Directory.CreateDirectory(Path.Combine(root, $".step-000004.{guid}.tmp"));
        File.WriteAllText(Path.Combine(root, $".step-000004.{guid}.tmp", "model.safetensors"), "partial");
        File.WriteAllText(Path.Combine(dir.Path, $".config.json.{guid}.tmp"), "{");
        File.WriteAllText(Path.Combine(dir.Path, "notes.tmp"), "the user's own file");

        using var folder = RunFolder.Open(dir.Path, "sft", resume: true, overwrite: false);
        Assert.That(folder.ResumeDirectory, Is.EqualTo(Path.Combine(root, "step-000003")));
        folder.Claim();
        Assert.That(Directory.GetFileSystemEntries(root).Select(Path.GetFileName), Is.EquivalentTo(new[] { "latest", "step-000003" }));
        Assert.That(Directory.GetFiles(dir.Path).Select(Path.GetFileName), Is.EquivalentTo(new[] { "notes.tmp", "run.json" }), "only our own temporary names are removed");
    }

    private static void AssertRefused(string outDir, string stepDir, string file, string reason)
    {
        var e = Assert.Throws<CheckpointException>(() => new CheckpointStore(outDir).LatestDirectory());
        Assert.That(e!.Message, Does.Contain(stepDir).And.Contain(file).And.Contain(reason));
    }
}
