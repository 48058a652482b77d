using System.Text.Json;
using System.Text.Json.Nodes;
using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// An RL checkpoint writes each value once: step, optimizer step, cursor, RNG and skipped minibatches live in
/// the store's state.json only, rl_state.json holds the RL-only rest; a checkpoint from before that change
/// (rl_state.json repeating the common fields) still resumes.
/// </summary>
public class PpoCheckpointTests
{
    private static readonly GptConfig Config = new(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);

    private static PpoOptions Options => new()
    {
        Method = PolicyGradientMethod.Ppo, PromptsPerStep = 4, MiniBatch = 4, Epochs = 1, MaxNewTokens = 2, StopAtEos = false,
        KlCoef = 0.05, KlTarget = 0.5, Lr = 1e-2f, WeightDecay = 0, Steps = 5, CheckpointEvery = 0, Seed = 3,
    };

    private static PpoTrainer Trainer(CpuBackend be, out GptModel policy, out GptModel reference)
    {
        policy = new GptModel(be, Config, ModelHeads.Value);
        policy.InitializeWeights(5);
        reference = new GptModel(be, Config);
        RlTestKit.CopyShared(policy, reference);
        return new PpoTrainer(policy, reference, new FunctionReward((_, r) => r.Count(c => c == 'c')), new LetterTokenizer(13), ["a", "b"], Options);
    }

    [Test]
    public void CommonStateIsWrittenOnceAndOldFilesStillLoad()
    {
        using var be = new CpuBackend(1);
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        PpoTrainerState saved;
        string folder;
        GptModel p1, r1;
        using (var t = Trainer(be, out p1, out r1))
        {
            t.Step(); t.Step();
            saved = t.CaptureState();
            folder = PpoCheckpoint.Save(store, p1, t);
        }
        p1.Dispose(); r1.Dispose();

        string rlPath = Path.Combine(folder, "rl_state.json");
        var rl = JsonNode.Parse(File.ReadAllText(rlPath))!.AsObject();
        Assert.That(rl.Select(kv => kv.Key), Is.EquivalentTo(new[] { "Episode", "KlCoef", "Baseline", "ReferenceSha256", "PreviousKl" }),
            "rl_state.json repeats state.json's fields");

        // The format before: the common fields repeated beside the RL ones (with other values, which must be ignored).
        rl["Step"] = 99; rl["OptimizerStep"] = 99; rl["SkippedMinibatches"] = 7;
        rl["DataCursor"] = new JsonObject { ["Epoch"] = 5, ["Index"] = 1 };
        rl["RngState"] = new JsonArray(1UL, 2UL, 3UL, 4UL);
        File.WriteAllText(rlPath, rl.ToJsonString());

        GptModel p2, r2;
        using (var t = Trainer(be, out p2, out r2))
        {
            PpoCheckpoint.Load(store, p2, t);
            var loaded = t.CaptureState();
            Assert.That(loaded.Rl, Is.EqualTo(saved.Rl));
            Assert.That(loaded.Common with { RngState = null }, Is.EqualTo(saved.Common with { RngState = null }));
            Assert.That(loaded.Common.RngState, Is.EqualTo(saved.Common.RngState));
        }
        p2.Dispose(); r2.Dispose();
    }
}
