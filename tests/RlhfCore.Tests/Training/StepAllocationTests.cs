using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.Rl;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Ilql;
using RlhfCore.Tests.Ilql;
using RlhfCore.Training.Ppo;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Sft;

namespace RlhfCore.Tests.Training;

/// <summary>
/// A training step allocates nothing (DESIGN, principle 2): after warm-up steps, several optimizer steps of
/// SFT, the reward model, DPO, KTO, ORPO and SimPO, and several PPO optimization passes over a rollout, allocate 0 bytes on the
/// calling thread on the CPU backend (one thread, so no work is handed to the pool).
/// </summary>
public class StepAllocationTests
{
    private const int WarmUp = 2, Measured = 4;

    private static long Allocated(Action step)
    {
        for (int i = 0; i < WarmUp; i++) step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Measured; i++) step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Test]
    public void Sft()
    {
        var o = new SftOptions { Batch = 4, SeqLen = 12, Steps = 100, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5 };
        var task = new ArithmeticTask(MaxOperand: 10);
        var rng = new Rng(3);
        var records = Enumerable.Range(0, 40).Select(i =>
        {
            var d = task.SampleDemonstration(rng);
            return new SftRecord(d.Prompt, d.Completion, false, "mem", i + 1);
        }).ToList();
        var data = SftData.FromRecords(records, o with { EvalFraction = 0 }, ByteTokenizer.Instance, 32, 260);
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 32, NumLayers: 1, NumHeads: 2, Channels: 16));
        model.InitializeWeights(o.Seed);
        using var trainer = new SftTrainer(model, data.Train, null, o);
        Assert.That(Allocated(() => trainer.Step()), Is.Zero, "bytes allocated by SFT steps");
    }

    [Test]
    public void Reward()
    {
        var o = new RewardOptions { Batch = 5, SeqLen = 8, Steps = 100, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 9 };
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 10, NumLayers: 1, NumHeads: 2, Channels: 16), ModelHeads.Reward);
        model.InitializeWeights(5);
        using var trainer = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, ArithmeticPreferences.Generate(new ArithmeticTask(MaxOperand: 10), 23, 1), null, o);
        Assert.That(Allocated(() => trainer.Step()), Is.Zero, "bytes allocated by reward-model steps");
    }

    [Test]
    public void Dpo()
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        var rng = new Random(1);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        var pairs = DpoData.Tokenize(Enumerable.Range(0, 20).Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 }),
            ByteTokenizer.Instance, seqLen: 8, config.VocabSize);
        var o = new DpoOptions { Batch = 4, SeqLen = 8, Steps = 100, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5 };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        using var reference = new GptModel(be, config);
        reference.InitializeWeights(4);
        using var trainer = new DpoTrainer(policy, reference, pairs, null, o);
        Assert.That(Allocated(() => trainer.Step()), Is.Zero, "bytes allocated by DPO steps");
    }

    [TestCase(DpoLossKind.Kto)]
    [TestCase(DpoLossKind.Orpo)]
    [TestCase(DpoLossKind.Simpo)]
    public void DpoFamily(DpoLossKind loss)
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        var rng = new Random(1);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        var pairs = Enumerable.Range(0, 20).Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 1 + i % 3), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 }).ToList();
        // KTO learns from the pairs as unpaired examples: each chosen completion desirable, each rejected one undesirable.
        var examples = loss == DpoLossKind.Kto
            ? DpoData.Tokenize(DpoData.Unpaired(pairs), ByteTokenizer.Instance, seqLen: 8, config.VocabSize)
            : DpoData.Tokenize(pairs, ByteTokenizer.Instance, seqLen: 8, config.VocabSize);
        var o = new DpoOptions { Loss = loss, Batch = 4, SeqLen = 8, Steps = 100, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5 };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        using var reference = o.NeedsReference ? new GptModel(be, config) : null;
        reference?.InitializeWeights(4);
        using var trainer = new DpoTrainer(policy, reference, examples, null, o);
        Assert.That(Allocated(() => trainer.Step()), Is.Zero, $"bytes allocated by {loss} steps");
    }

    [Test]
    public void Ilql()
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new IlqlOptions { Batch = 4, SeqLen = 8, Steps = 100, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5, TargetSyncEvery = 1 };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        using var trainer = new IlqlTrainer(policy, IlqlTestKit.Sequences(20, o.SeqLen), null, o);
        Assert.That(Allocated(() => trainer.Step()), Is.Zero, "bytes allocated by ILQL steps (target sync included)");
    }

    [Test]
    public void PpoMinibatches()
    {
        var config = new GptConfig(VocabSize: 13, MaxSeqLen: 16, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new PpoOptions
        {
            Method = PolicyGradientMethod.Ppo, PromptsPerStep = 16, MiniBatch = 4, Epochs = 2, MaxNewTokens = 12, StopAtEos = false,
            KlCoef = 0.05, Lr = 1e-3f, Steps = 10, CheckpointEvery = 0, Seed = 7,
        };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config, ModelHeads.Value);
        policy.InitializeWeights(5);
        using var reference = new GptModel(be, config);
        RlTestKit.CopyShared(policy, reference);
        using var trainer = new PpoTrainer(policy, reference, new FunctionReward((_, r) => r.Length), new LetterTokenizer(13), ["a", "bc"], o);
        var r = trainer.Step().Rollout;
        var advantages = new float[r.Mask.Length];
        var returns = new float[r.Mask.Length];
        for (int n = 0; n < advantages.Length; n++) { advantages[n] = (n % 7 - 3) * 0.1f; returns[n] = (n % 5) * 0.2f; }
        Assert.That(Allocated(() => trainer.OptimizeMinibatches(r, advantages, returns, 0.05, 1e-3f)), Is.Zero, "bytes allocated by PPO minibatch updates");
    }
}
