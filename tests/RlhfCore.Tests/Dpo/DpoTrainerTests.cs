using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Dpo;

/// <summary>
/// The DPO trainer end to end on synthetic preferences (completions of letters a–e preferred over letters
/// v–z after a digit prompt): training raises the held-out implicit-reward margin and accuracy from exactly
/// zero; a run interrupted, checkpointed and resumed equals an uninterrupted one bit for bit; a non-finite loss
/// skips the step without touching the weights.
/// </summary>
public class DpoTrainerTests
{
    private static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);

    private static List<DpoExample> SyntheticPairs(int count, int seed)
    {
        var rng = new Random(seed);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        var pairs = Enumerable.Range(0, count)
            .Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 });
        return DpoData.Tokenize(pairs, ByteTokenizer.Instance, seqLen: 8, Config.VocabSize);
    }

    private static DpoOptions Options(DpoLossKind kind = DpoLossKind.Sigmoid) => new()
    {
        Loss = kind, Beta = 0.5, Batch = 8, SeqLen = 8, Steps = 40, Lr = 3e-3f, Warmup = 0,
        EvalEvery = 0, EvalBatches = 0, CheckpointEvery = 0, Seed = 5,
    };

    private static GptModel Model(CpuBackend be, ulong seed)
    {
        var m = new GptModel(be, Config);
        m.InitializeWeights(seed);
        return m;
    }

    [TestCase(DpoLossKind.Sigmoid)]
    [TestCase(DpoLossKind.Ipo)]
    public void RaisesHeldOutMargin(DpoLossKind kind)
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, 3);
        using var reference = Model(be, 3);
        var heldOut = SyntheticPairs(48, 2);
        using var trainer = new DpoTrainer(policy, reference, SyntheticPairs(200, 1), heldOut, Options(kind));
        var before = trainer.Evaluate();
        Assert.That(before.RewardsMargin, Is.EqualTo(0), "policy = reference gives zero implicit rewards");
        var reports = new List<DpoStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        var after = reports[^1].Eval!;
        TestContext.Out.WriteLine($"{kind}: held-out margin {before.RewardsMargin:F3} → {after.RewardsMargin:F3}, accuracy {before.RewardsAccuracy:P0} → {after.RewardsAccuracy:P0}, loss {before.Loss:F4} → {after.Loss:F4}");
        // IPO regresses the margin h to 1/(2β), so the reward margin β·h settles at 1/2; DPO keeps growing it.
        if (kind == DpoLossKind.Ipo) Assert.That(after.RewardsMargin, Is.EqualTo(0.5).Within(0.1));
        else Assert.That(after.RewardsMargin, Is.GreaterThan(1.0));
        Assert.That(after.RewardsAccuracy, Is.GreaterThanOrEqualTo(0.95));
        Assert.That(after.Loss, Is.LessThan(before.Loss));
        Assert.That(reports.Any(r => r.Skipped), Is.False);
    }

    [Test]
    public void ResumeEqualsUninterrupted()
    {
        var o = Options() with { Steps = 6, GradAccum = 2, Warmup = 2, Schedule = ScheduleKind.Cosine, GradClip = 0.5f, WeightDecay = 0.1f };
        var train = SyntheticPairs(20, 1);
        var eval = SyntheticPairs(5, 2);

        (float[] Params, float[] M, List<double> Losses) Uninterrupted()
        {
            using var be = new CpuBackend(2);
            using var policy = Model(be, 3);
            using var reference = Model(be, 4);
            using var t = new DpoTrainer(policy, reference, train, eval, o);
            var losses = new List<double>();
            t.Run(CancellationToken.None, r => losses.Add(r.Train.Loss), _ => { });
            return (Read(be, policy.Parameters.All), Read(be, t.Optimizer.Arena("adam.m.")!.All), losses);
        }

        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        var resumedLosses = new List<double>();
        using (var be = new CpuBackend(2))
        using (var policy = Model(be, 3))
        using (var reference = Model(be, 4))
        using (var t = new DpoTrainer(policy, reference, train, eval, o))
        using (var cancel = new CancellationTokenSource())
        {
            t.Run(cancel.Token, r => { resumedLosses.Add(r.Train.Loss); if (r.Step == 2) cancel.Cancel(); }, _ => { });
            Assert.That(t.StepsDone, Is.EqualTo(3));
            store.Save(policy, t.Optimizer, t.CaptureState());
        }
        float[] resumedParams, resumedM;
        using (var be = new CpuBackend(2))
        using (var policy = new GptModel(be, Config))
        using (var reference = Model(be, 4))
        using (var t = new DpoTrainer(policy, reference, train, eval, o))
        {
            t.RestoreState(store.Load(policy, t.Optimizer));
            t.Run(CancellationToken.None, r => resumedLosses.Add(r.Train.Loss), _ => { });
            resumedParams = Read(be, policy.Parameters.All);
            resumedM = Read(be, t.Optimizer.Arena("adam.m.")!.All);
        }
        var (p, m, losses) = Uninterrupted();
        Assert.That(resumedLosses, Is.EqualTo(losses));
        Assert.That(resumedParams, Is.EqualTo(p), "parameters differ bit for bit");
        Assert.That(resumedM, Is.EqualTo(m), "AdamW moments differ bit for bit");
    }

    [Test]
    public void NonFiniteLossSkipsTheStep()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, 3);
        using var reference = Model(be, 3);
        // A NaN in the reference's final LayerNorm makes every reference log-prob NaN, so every loss is NaN.
        var ln = reference.Parameters["ln_f.bias"];
        var values = new float[ln.Length];
        values[0] = float.NaN;
        be.Upload<float>(ln, values);
        var before = Read(be, policy.Parameters.All);
        using var trainer = new DpoTrainer(policy, reference, SyntheticPairs(16, 1), null, Options() with { Steps = 3 });
        var reports = new List<DpoStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        Assert.That(reports.All(r => r.Skipped && double.IsNaN(r.Train.Loss)), Is.True);
        Assert.That(trainer.StepsSkipped, Is.EqualTo(3));
        Assert.That(Read(be, policy.Parameters.All), Is.EqualTo(before), "a skipped step changed the weights");
        Assert.That(trainer.Optimizer.Step, Is.EqualTo(0));
    }

    private static float[] Read(CpuBackend be, RlhfCore.Tensors.Tensor t)
    {
        var a = new float[t.Length];
        be.Download<float>(t, a);
        return a;
    }
}
