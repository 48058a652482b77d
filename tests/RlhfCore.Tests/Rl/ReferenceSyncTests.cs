using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// TR-DPO reference updates (--ref-sync-every N --ref-mix α) in the DPO and PPO trainers: the reference stays put between
/// updates, equals α·π + (1 − α)·π_ref computed on the host after the N-th step, and a PPO run that moves its reference
/// resumes bit for bit.
/// </summary>
public class ReferenceSyncTests
{
    private static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);

    private static List<DpoExample> Pairs(int count)
    {
        var rng = new Random(1);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        var pairs = Enumerable.Range(0, count)
            .Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 });
        return DpoData.Tokenize(pairs, ByteTokenizer.Instance, seqLen: 8, Config.VocabSize);
    }

    private static float[] Expected(float[] policy, float[] reference, double alpha) =>
        policy.Select((p, i) => (float)(alpha * p + (1 - alpha) * reference[i])).ToArray();

    [Test]
    public void Dpo_ReferenceEqualsTheHostMixAfterEveryNthStep()
    {
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, Config);
        policy.InitializeWeights(3);
        using var reference = new GptModel(be, Config);
        reference.InitializeWeights(4);
        var o = new DpoOptions { Beta = 0.5, Batch = 4, SeqLen = 8, Steps = 4, Lr = 3e-3f, Warmup = 0, EvalEvery = 0, CheckpointEvery = 0, RefSyncEvery = 2, RefMix = 0.3 };
        using var t = new DpoTrainer(policy, reference, Pairs(16), null, o);
        var ref0 = RlTestKit.Parameters(reference);
        t.Step();
        Assert.That(RlTestKit.Parameters(reference), Is.EqualTo(ref0), "no update after step 1 of 2");
        t.Step();
        var expected = Expected(RlTestKit.Parameters(policy), ref0, 0.3);
        Assert.That(RlTestKit.Parameters(reference), Is.EqualTo(expected).Within(1e-6f), "π_ref ← α·π + (1 − α)·π_ref after step 2");
        Assert.That(RlTestKit.Parameters(reference), Is.Not.EqualTo(ref0));
    }

    [Test]
    public void Dpo_ReferenceFreeLossRefusesSync() =>
        Assert.That(Assert.Throws<ArgumentException>(() => new DpoOptions { Loss = DpoLossKind.Simpo, RefSyncEvery = 2 }.Validate())!.Message,
            Does.StartWith("--ref-sync-every: the Simpo loss has no reference model"));

    private static readonly GptConfig Small = new(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);
    private static readonly IRewardFunction Bandit = new FunctionReward((_, response) => response.Contains('h') ? 1 : 0);

    private static PpoOptions Ppo() => new()
    {
        Method = PolicyGradientMethod.Ppo, PromptsPerStep = 4, MiniBatch = 4, Epochs = 1, MaxNewTokens = 2, StopAtEos = false,
        KlCoef = 0.05, Lr = 1e-2f, WeightDecay = 0, Steps = 4, CheckpointEvery = 0, Seed = 42, RefSyncEvery = 2, RefMix = 0.5,
    };

    private sealed class Setup : IDisposable
    {
        public readonly CpuBackend Backend = new(1);
        public readonly GptModel Policy, Reference;

        public Setup(ulong seed = 5)
        {
            Policy = new GptModel(Backend, Small, ModelHeads.Value);
            Policy.InitializeWeights(seed);
            Reference = new GptModel(Backend, Small);
            Reference.InitializeWeights(seed + 1);
        }

        public void Dispose()
        {
            Policy.Dispose();
            Reference.Dispose();
            Backend.Dispose();
        }
    }

    /// <summary>The policy's parameters without its value head, in the reference's layout.</summary>
    private static float[] Shared(GptModel policy, GptModel reference) =>
        reference.Table.SelectMany(spec =>
        {
            var v = new float[spec.Length];
            policy.Backend.Download<float>(policy.Parameters[spec.Name], v);
            return v;
        }).ToArray();

    [Test]
    public void Ppo_ReferenceEqualsTheHostMixAfterEveryNthStep()
    {
        using var s = new Setup();
        using var t = new PpoTrainer(s.Policy, s.Reference, Bandit, new LetterTokenizer(13), ["a", "bc"], Ppo());
        var ref0 = RlTestKit.Parameters(s.Reference);
        t.Step();
        Assert.That(RlTestKit.Parameters(s.Reference), Is.EqualTo(ref0), "no update after step 1 of 2");
        t.Step();
        Assert.That(RlTestKit.Parameters(s.Reference), Is.EqualTo(Expected(Shared(s.Policy, s.Reference), ref0, 0.5)).Within(1e-6f));
    }

    [Test]
    public void Ppo_WithAMovingReference_ResumesBitForBit()
    {
        string[] prompts = ["a", "bc"];
        float[] straight, straightRef;
        using (var s = new Setup())
        using (var t = new PpoTrainer(s.Policy, s.Reference, Bandit, new LetterTokenizer(13), prompts, Ppo()))
        {
            t.Run(CancellationToken.None, _ => { }, _ => { });
            (straight, straightRef) = (RlTestKit.Parameters(s.Policy), RlTestKit.Parameters(s.Reference));
        }
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        using (var s = new Setup())
        using (var t = new PpoTrainer(s.Policy, s.Reference, Bandit, new LetterTokenizer(13), prompts, Ppo()))
        {
            t.Step(); t.Step(); t.Step(); // past the update at step 2
            PpoCheckpoint.Save(store, s.Policy, t);
        }
        using (var s = new Setup()) // the original reference, as a resumed CLI run loads it from --init-from
        using (var t = new PpoTrainer(s.Policy, s.Reference, Bandit, new LetterTokenizer(13), prompts, Ppo()))
        {
            PpoCheckpoint.Load(store, s.Policy, t);
            t.Run(CancellationToken.None, _ => { }, _ => { });
            Assert.That(RlTestKit.Parameters(s.Policy), Is.EqualTo(straight), "policy after resume");
            Assert.That(RlTestKit.Parameters(s.Reference), Is.EqualTo(straightRef), "reference after resume");
        }
    }
}
