using System.Globalization;
using System.Text.Json;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Optim;

namespace RlhfCore.Training;

/// <summary>
/// Resumable checkpoints under <c>OUT/checkpoint/</c>: each save writes a folder <c>step-NNNNNN</c>
/// holding the model (safetensors, Hugging Face GPT-2 layout), the AdamW moments and the trainer state,
/// every file written atomically; only then is the one-line <c>latest</c> pointer replaced (atomically
/// too). A crash at any moment leaves <c>latest</c> naming a complete checkpoint. The two newest are kept.
/// </summary>
public sealed class CheckpointStore
{
    private const string Latest = "latest";
    private const int Keep = 2;

    /// <summary>The checkpoint folder.</summary>
    public string Root { get; }

    /// <summary>Checkpoints under <paramref name="outDir"/>/checkpoint.</summary>
    public CheckpointStore(string outDir) => Root = Path.Combine(outDir, "checkpoint");

    /// <summary>
    /// Saves <paramref name="model"/>, <paramref name="optimizer"/> and <paramref name="state"/>;
    /// <paramref name="writeExtra"/>, when given, writes a trainer's own files into the step folder before the
    /// <c>latest</c> pointer moves, so they are part of the same all-or-nothing checkpoint.
    /// </summary>
    public string Save(GptModel model, AdamW optimizer, TrainerState state, Action<string>? writeExtra = null)
    {
        string name = "step-" + state.Step.ToString("D6", CultureInfo.InvariantCulture);
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        Gpt2Checkpoint.Save(Path.Combine(dir, "model.safetensors"), model.Config, model.Heads, model.Parameters);
        TensorFile.SaveTensors(Path.Combine(dir, "optimizer.safetensors"), model.Backend,
            TensorFile.Named("adam.m.", optimizer.M).Concat(TensorFile.Named("adam.v.", optimizer.V)));
        AtomicFile.Write(Path.Combine(dir, "state.json"), s => JsonSerializer.Serialize(s, state, JsonOptions));
        writeExtra?.Invoke(dir);
        AtomicFile.Write(Path.Combine(Root, Latest), s => s.Write(System.Text.Encoding.UTF8.GetBytes(name)));
        foreach (var old in Directory.GetDirectories(Root, "step-*").OrderDescending(StringComparer.Ordinal).Skip(Keep))
            Directory.Delete(old, recursive: true);
        return dir;
    }

    /// <summary>The newest complete checkpoint's folder, or null when there is none.</summary>
    public string? LatestDirectory()
    {
        string pointer = Path.Combine(Root, Latest);
        if (!File.Exists(pointer)) return null;
        string dir = Path.Combine(Root, File.ReadAllText(pointer).Trim());
        if (!Directory.Exists(dir)) throw new IOException($"{pointer} names {dir}, which does not exist");
        return dir;
    }

    /// <summary>The checkpoint a <c>--resume</c> run continues from (null when not resuming); an error when there is none.</summary>
    public string? ResumeDirectory(bool resume) =>
        resume ? LatestDirectory() ?? throw new FileNotFoundException($"--resume: no checkpoint in {Root}") : null;

    /// <summary>Loads the newest checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> and returns its state.</summary>
    public TrainerState Load(GptModel model, AdamW optimizer)
    {
        string dir = LatestDirectory() ?? throw new FileNotFoundException($"no checkpoint to resume from in {Root}");
        Gpt2Checkpoint.Load(Path.Combine(dir, "model.safetensors"), model.Parameters, model.Backend);
        TensorFile.LoadTensors(Path.Combine(dir, "optimizer.safetensors"), model.Backend,
            TensorFile.Named("adam.m.", optimizer.M).Concat(TensorFile.Named("adam.v.", optimizer.V)));
        string statePath = Path.Combine(dir, "state.json");
        return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath), JsonOptions)
            ?? throw new IOException($"{statePath}: empty trainer state");
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, IncludeFields = true };
}
