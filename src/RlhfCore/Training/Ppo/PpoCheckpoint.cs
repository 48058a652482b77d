using RlhfCore.Rl;
using System.Text.Json;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;

namespace RlhfCore.Training.Ppo;

/// <summary>
/// Resumable RL checkpoints in a <see cref="CheckpointStore"/>: the store's files (policy with its value
/// head, AdamW moments, the common trainer state: step, cursor, RNG, skipped minibatches) plus
/// <c>rl_state.json</c> with only what the store does not hold (KL coefficient, baseline, episode count, the
/// reference's parameter hash), so each value is written once. An older <c>rl_state.json</c> that repeated the
/// common fields still loads: the repeated fields are ignored. The RL file is written into the step folder first, so
/// when the store then moves its <c>latest</c> pointer the folder is already complete. The reference is
/// frozen, so it is not copied: a resume reloads it from its source and checks the hash; only a reference that moves
/// (--ref-sync-every) is saved, as <c>reference.safetensors</c> in the step folder, and restored from there.
/// </summary>
public static class PpoCheckpoint
{
    private const string FileName = "rl_state.json", ReferenceFile = "reference.safetensors";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Saves the trainer's state with <paramref name="policy"/>; returns the checkpoint folder.</summary>
    public static string Save(CheckpointStore store, GptModel policy, PpoTrainer trainer)
    {
        var s = trainer.CaptureState();
        return store.Save(policy, trainer.Optimizer, s.Common, dir =>
        {
            AtomicFile.Write(Path.Combine(dir, FileName), f => JsonSerializer.Serialize(f, s.Rl, Json));
            var r = trainer.Reference;
            if (trainer.MovesReference) Gpt2Checkpoint.Save(Path.Combine(dir, ReferenceFile), r.Config, r.Heads, r.Parameters);
        });
    }

    /// <summary>Loads the newest checkpoint into <paramref name="policy"/> and the trainer.</summary>
    public static void Load(CheckpointStore store, GptModel policy, PpoTrainer trainer)
    {
        string dir = store.LatestDirectory() ?? throw new FileNotFoundException($"no checkpoint to resume from in {store.Root}");
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) throw new IOException($"{dir} is not an RL checkpoint: {FileName} is missing");
        string moved = Path.Combine(dir, ReferenceFile);
        if (trainer.MovesReference)
        {
            if (!File.Exists(moved)) throw new IOException($"{dir}: --ref-sync-every moves the reference, and this checkpoint has no {ReferenceFile}");
            using var reference = ModelFiles.Load(moved, policy.Backend);
            trainer.ReplaceReference(reference);
        }
        var common = store.Load(policy, trainer.Optimizer);
        var rl = JsonSerializer.Deserialize<PpoRlState>(File.ReadAllText(path), Json)
            ?? throw new IOException($"{path}: empty RL state");
        trainer.RestoreState(new PpoTrainerState(common, rl));
    }
}
