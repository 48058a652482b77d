using System.Globalization;
using System.Text.Json;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training;

/// <summary>
/// Resumable checkpoints under <c>OUT/checkpoint/</c>. Each save writes a whole folder under a temporary name
/// (<c>.step-NNNNNN.GUID.tmp</c>): the model (safetensors, Hugging Face GPT-2 layout), the optimizer's named state tensors, the
/// trainer state, a trainer's own files, and last a <see cref="CheckpointManifest"/> (run id, step, size and
/// SHA-256 of each file). Only then is it renamed to <c>step-NNNNNN</c> and the one-line <c>latest</c> pointer
/// replaced (atomically). A crash at any moment leaves <c>latest</c> naming a complete checkpoint, and a failed
/// save removes what it wrote. Loading verifies the manifest, so a checkpoint mixing two runs' files, or missing
/// one, is refused by name. Pruning keeps the checkpoint <c>latest</c> names, the newest one before it, and every
/// folder newer than it (never deleting what it cannot account for).
/// </summary>
public sealed class CheckpointStore
{
    private const string Latest = "latest";
    private const string StatePrefix = "step-";
    private const int KeepBeforeLatest = 1;

    private readonly string _outDir;
    private string? _runId;
    private string? _verified;
    private int _lastSavedStep = -1;

    /// <summary>The checkpoint folder.</summary>
    public string Root { get; }

    /// <summary>
    /// Checkpoints under <paramref name="outDir"/>/checkpoint, written and verified as run <paramref name="runId"/>.
    /// Without a run id, the store takes the output folder's <c>run.json</c>, else the latest checkpoint's, else a new one.
    /// </summary>
    public CheckpointStore(string outDir, string? runId = null)
    {
        _outDir = outDir;
        _runId = runId;
        Root = Path.Combine(outDir, "checkpoint");
    }

    /// <summary>The run every checkpoint of this store is written as, and checked against on load.</summary>
    public string RunId => _runId ??= RunIdentity.Read(_outDir)?.RunId ?? LatestManifestRunId() ?? RunIdentity.NewRunId();

    /// <summary>
    /// Saves <paramref name="model"/>, <paramref name="optimizer"/> and <paramref name="state"/>;
    /// <paramref name="writeExtra"/>, when given, writes a trainer's own files into the (temporary) step folder,
    /// so they are part of the same all-or-nothing checkpoint. Returns the step folder. A second save at the step
    /// this store just saved or loaded (Ctrl-C right after a periodic save) returns that folder unchanged.
    /// </summary>
    public string Save(GptModel model, IOptimizer optimizer, TrainerState state, Action<string>? writeExtra = null)
    {
        string name = StepName(state.Step);
        string dir = Path.Combine(Root, name);
        if (state.Step == _lastSavedStep && Directory.Exists(dir)) return dir;

        Directory.CreateDirectory(Root);
        string temp = Path.Combine(Root, $".{name}.{Guid.NewGuid():N}.tmp");
        string? replaced = null;
        bool movedIn = false;
        try
        {
            Directory.CreateDirectory(temp);
            Gpt2Checkpoint.Save(Path.Combine(temp, "model.safetensors"), model.Config, model.Heads, model.Parameters);
            TensorFile.SaveTensors(Path.Combine(temp, "optimizer.safetensors"), model.Backend, optimizer.State);
            AtomicFile.Write(Path.Combine(temp, "state.json"), s => JsonSerializer.Serialize(s, state, JsonOptions));
            writeExtra?.Invoke(temp);
            CheckpointManifest.Write(temp, RunId, state.Step);
            if (File.Exists(dir)) throw new IOException($"cannot save checkpoint {dir}: a file is in the way of the folder");
            if (Directory.Exists(dir))
            {
                // A folder of this step that latest does not name is this run's own save, cut off by a crash before
                // latest moved (ownership is checked before a run writes anything): the new save replaces it.
                if (LatestName() == name) throw new IOException($"cannot save checkpoint {dir}: it exists and {Path.Combine(Root, Latest)} names it");
                replaced = Path.Combine(Root, $".{name}.{Guid.NewGuid():N}.replaced");
                Directory.Move(dir, replaced);
            }
            Directory.Move(temp, dir);
            movedIn = true;
            AtomicFile.Write(Path.Combine(Root, Latest), s => s.Write(System.Text.Encoding.UTF8.GetBytes(name)));
        }
        catch
        {
            // Undo in reverse: the new folder (latest does not name it yet), then the folder it replaced.
            TryDeleteDirectory(temp);
            if (movedIn) TryDeleteDirectory(dir);
            if (replaced != null && !Directory.Exists(dir)) TryMove(replaced, dir);
            throw;
        }
        if (replaced != null) TryDeleteDirectory(replaced);
        Prune(state.Step);
        _lastSavedStep = state.Step;
        _verified = dir;
        return dir;
    }

    /// <summary>
    /// The newest complete checkpoint's folder, its manifest verified against this store's run, or null when there is
    /// none. Throws <see cref="CheckpointException"/> naming the folder and file when the checkpoint is mixed or incomplete.
    /// </summary>
    public string? LatestDirectory()
    {
        string? name = LatestName();
        if (name == null) return null;
        string dir = Path.Combine(Root, name);
        if (dir == _verified) return dir;
        if (!Directory.Exists(dir)) throw new IOException($"{Path.Combine(Root, Latest)} names {dir}, which does not exist");
        int step = ParseStep(name) ?? throw new IOException($"{Path.Combine(Root, Latest)} names '{name}', which is not a step-NNNNNN folder");
        CheckpointManifest.Read(dir).Verify(dir, step, RunId);
        _verified = dir;
        return dir;
    }

    /// <summary>The checkpoint a <c>--resume</c> run continues from (null when not resuming); an error when there is none.</summary>
    public string? ResumeDirectory(bool resume) =>
        resume ? LatestDirectory() ?? throw new FileNotFoundException($"--resume: no checkpoint in {Root}") : null;

    /// <summary>Loads the newest checkpoint (verified) into <paramref name="model"/> and <paramref name="optimizer"/> and returns its state.</summary>
    public TrainerState Load(GptModel model, IOptimizer optimizer)
    {
        string dir = LatestDirectory() ?? throw new FileNotFoundException($"no checkpoint to resume from in {Root}");
        Gpt2Checkpoint.Load(Path.Combine(dir, "model.safetensors"), model.Parameters, model.Backend);
        TensorFile.LoadTensors(Path.Combine(dir, "optimizer.safetensors"), model.Backend, optimizer.State);
        string statePath = Path.Combine(dir, "state.json");
        var state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), JsonOptions)
            ?? throw new IOException($"{statePath}: empty trainer state");
        _lastSavedStep = state.Step;
        return state;
    }

    /// <summary>
    /// Removes what killed saves left behind: temporary step folders, replaced folders and temporary files in
    /// <see cref="Root"/>. Call only while no other process writes this store (a run owns its folder).
    /// </summary>
    public void RemoveLeftovers()
    {
        if (!Directory.Exists(Root)) return;
        foreach (var d in Directory.GetDirectories(Root, "." + StatePrefix + "*"))
            if (d.EndsWith(".tmp", StringComparison.Ordinal) || d.EndsWith(".replaced", StringComparison.Ordinal))
                TryDeleteDirectory(d);
        AtomicFile.RemoveLeftovers(Root);
    }

    /// <summary>The step a <c>step-NNNNNN</c> folder name stands for, or null for any other name.</summary>
    public static int? ParseStep(string folderName) =>
        folderName.StartsWith(StatePrefix, StringComparison.Ordinal)
        && int.TryParse(folderName.AsSpan(StatePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int step) ? step : null;

    private static string StepName(int step) => StatePrefix + step.ToString("D6", CultureInfo.InvariantCulture);

    private string? LatestName()
    {
        string pointer = Path.Combine(Root, Latest);
        return File.Exists(pointer) ? File.ReadAllText(pointer).Trim() : null;
    }

    private string? LatestManifestRunId()
    {
        string? name = LatestName();
        if (name == null) return null;
        string dir = Path.Combine(Root, name);
        return File.Exists(Path.Combine(dir, CheckpointManifest.FileName)) ? CheckpointManifest.Read(dir).RunId : null;
    }

    private void Prune(int latestStep)
    {
        var older = Directory.GetDirectories(Root, StatePrefix + "*")
            .Select(d => (Dir: d, Step: ParseStep(Path.GetFileName(d))))
            .Where(x => x.Step < latestStep)
            .OrderByDescending(x => x.Step)
            .Skip(KeepBeforeLatest);
        foreach (var (d, _) in older) Directory.Delete(d, recursive: true);
    }

    private static void TryDeleteDirectory(string dir)
    {
        // Cleanup on a failure path: the original error matters more than a leftover, so a failed delete is not rethrown.
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryMove(string from, string to)
    {
        try { Directory.Move(from, to); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, IncludeFields = true };
}
