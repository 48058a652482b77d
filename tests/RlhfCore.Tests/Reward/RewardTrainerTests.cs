using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Core;

namespace RlhfCore.Tests.Reward;

/// <summary>The reward trainer's loop: resume, non-finite steps, evaluation, checks on its input.</summary>
public class RewardTrainerTests
{
    private static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 10, NumLayers: 1, NumHeads: 2, Channels: 16);

    private static GptModel NewModel(CpuBackend be)
    {
        var model = new GptModel(be, Config, ModelHeads.Reward);
        model.InitializeWeights(5);
        return model;
    }

    private static RewardOptions Options(int steps) => new()
    {
        Batch = 5, SeqLen = 8, Steps = steps, GradAccum = 2, Lr = 3e-3f, Warmup = 2, EvalEvery = 3, CheckpointEvery = 0,
        CenterRewardsCoefficient = 0.01, Seed = 9,
    };

    private static List<PreferencePair> Pairs(int n, ulong seed) => ArithmeticPreferences.Generate(new ArithmeticTask(MaxOperand: 10), n, seed);

    private static byte[] Bytes(CpuBackend be, RlhfCore.Tensors.TensorArena arena)
    {
        var f = new float[arena.All.Length];
        be.Download<float>(arena.All, f);
        return System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()).ToArray();
    }

    [Test]
    public void ResumeEqualsUninterruptedBitForBit()
    {
        const int total = 8, cut = 5;
        var train = Pairs(23, 1);
        var eval = Pairs(7, 2);
        using var be = new CpuBackend(2);
        using var dir = new TempDir();

        using var straight = NewModel(be);
        var straightEval = new List<RewardSummary>();
        TrainerState straightState;
        byte[] straightM, straightV;
        using (var t = RewardTrainer.FromFeedback(straight, ByteTokenizer.Instance, train, eval, Options(total)))
        {
            t.Run(CancellationToken.None, r => { if (r.Eval is { } e) straightEval.Add(e); });
            straightState = t.CaptureState();
            (straightM, straightV) = (Bytes(be, t.Optimizer.Arena("adam.m.")!), Bytes(be, t.Optimizer.Arena("adam.v.")!));
        }

        // Stop after `cut` steps (cancellation finishes the current step), save, and continue in a fresh model and trainer.
        var store2 = new CheckpointStore(dir.File("resumed"));
        using (var first = NewModel(be))
        using (var t = RewardTrainer.FromFeedback(first, ByteTokenizer.Instance, train, eval, Options(total)))
        {
            using var cancel = new CancellationTokenSource();
            t.Run(cancel.Token, r => { if (r.Step + 1 == cut) cancel.Cancel(); });
            Assert.That(t.StepsDone, Is.EqualTo(cut));
            store2.Save(first, t.Optimizer, t.CaptureState());
        }
        using var resumed = ModelFiles.Load(Path.Combine(store2.LatestDirectory()!, "model.safetensors"), be);
        var resumedEval = new List<RewardSummary>();
        using (var t = RewardTrainer.FromFeedback(resumed, ByteTokenizer.Instance, train, eval, Options(total)))
        {
            t.RestoreState(store2.Load(resumed, t.Optimizer));
            t.Run(CancellationToken.None, r => { if (r.Eval is { } e) resumedEval.Add(e); });
            Assert.That(t.CaptureState() with { RngState = null }, Is.EqualTo(straightState).Using<TrainerState>((x, y) =>
                x.Step == y.Step && x.OptimizerStep == y.OptimizerStep && x.DataCursor == y.DataCursor && x.SkippedSteps == y.SkippedSteps));
            Assert.That(Bytes(be, t.Optimizer.Arena("adam.m.")!), Is.EqualTo(straightM), "AdamW first moments differ");
            Assert.That(Bytes(be, t.Optimizer.Arena("adam.v.")!), Is.EqualTo(straightV), "AdamW second moments differ");
        }
        Assert.That(Bytes(be, resumed.Parameters), Is.EqualTo(Bytes(be, straight.Parameters)), "parameters differ after resuming");
        Assert.That(resumedEval[^1], Is.EqualTo(straightEval[^1]), "final held-out metrics differ");
    }

    [Test]
    public void ResumeMovesTheMomentsToo()
    {
        // Guard against a resume test that passes because nothing is restored: a run resumed without the
        // AdamW moments must end elsewhere.
        var train = Pairs(23, 1);
        using var be = new CpuBackend(2);
        using var a = NewModel(be);
        using var b = NewModel(be);
        using (var t = RewardTrainer.FromFeedback(a, ByteTokenizer.Instance, train, null, Options(6))) t.Run(CancellationToken.None);
        using (var t = RewardTrainer.FromFeedback(b, ByteTokenizer.Instance, train, null, Options(6)))
        {
            using var cancel = new CancellationTokenSource();
            t.Run(cancel.Token, r => { if (r.Step == 2) cancel.Cancel(); });
            var state = t.CaptureState();
            be.Zero(t.Optimizer.Arena("adam.m.")!.All);
            t.RestoreState(state);
            t.Run(CancellationToken.None);
        }
        Assert.That(Bytes(be, b.Parameters), Is.Not.EqualTo(Bytes(be, a.Parameters)));
    }

    [Test]
    public void NonFiniteLossSkipsTheStepAndKeepsTheWeights()
    {
        // A rating so large that its squared error overflows to +∞: the step that sees it is skipped.
        var ratings = new List<FeedbackRecord>
        {
            new RatedCompletion("1+1=", "2", 1.0), new RatedCompletion("1+2=", "3", 1e200), new RatedCompletion("1+1=", "5", -1.0),
        };
        using var be = new CpuBackend(2);
        using var model = NewModel(be);
        var options = new RewardOptions { Batch = 1, SeqLen = 8, Steps = 6, Warmup = 0, EvalEvery = 0, Seed = 4 };
        using var t = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, ratings, null, options);
        var reports = new List<RewardStepReport>();
        byte[] before = Bytes(be, model.Parameters);
        t.Run(CancellationToken.None, r =>
        {
            reports.Add(r);
            if (r.Skipped) Assert.That(Bytes(be, model.Parameters), Is.EqualTo(before), $"step {r.Step} was skipped but the weights moved");
            before = Bytes(be, model.Parameters);
        });
        Assert.That(reports.Count(r => r.Skipped), Is.EqualTo(2), "each epoch of 3 ratings shows the bad one once");
        Assert.That(t.StepsSkipped, Is.EqualTo(2));
        Assert.That(reports.Where(r => r.Skipped).All(r => double.IsInfinity(r.Train.Loss)));
        var p = new float[model.Parameters.All.Length];
        be.Download<float>(model.Parameters.All, p);
        Assert.That(p.All(float.IsFinite), "non-finite values reached the weights");
    }

    [Test]
    public void TrainingRaisesPairAccuracyOnTrainingData()
    {
        var train = Pairs(40, 3);
        using var be = new CpuBackend(2);
        using var model = NewModel(be);
        using var t = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, train, train, Options(30) with { GradAccum = 1, Batch = 8 });
        var before = t.Evaluate();
        t.Run(CancellationToken.None);
        var after = t.Evaluate();
        Assert.That(after.Loss, Is.LessThan(before.Loss));
        Assert.That(after.Margin, Is.GreaterThan(before.Margin));
        Assert.That(after.Pairs, Is.EqualTo(40));
    }

    [Test]
    public void TrainsOnTokenPairsMadeInMemory()
    {
        // The pipeline's path: generated token sequences (prompt + completion + EOS), no text round trip.
        var tok = ByteTokenizer.Instance;
        var pairs = Pairs(16, 4).Select(p => RewardExample.Pair([.. tok.Encode(p.Prompt + p.Chosen), tok.EndOfText], [.. tok.Encode(p.Prompt + p.Rejected), tok.EndOfText])).ToList();
        using var be = new CpuBackend(2);
        using var model = NewModel(be);
        using var t = new RewardTrainer(model, pairs, pairs, Options(10) with { GradAccum = 1 });
        var before = t.Evaluate();
        t.Run(CancellationToken.None);
        Assert.That(t.Loss, Is.EqualTo(RewardLoss.BradleyTerry));
        Assert.That(t.Evaluate().Loss, Is.LessThan(before.Loss));
    }

    [Test]
    public void RejectsMixedKindsAndModelsWithoutTheRewardHead()
    {
        using var be = new CpuBackend(2);
        using var model = NewModel(be);
        var mixed = new List<FeedbackRecord> { new PreferencePair("p", "a", "b"), new RatedCompletion("p", "a", 1) };
        var e = Assert.Throws<ArgumentException>(() => RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, mixed, null, Options(1)));
        Assert.That(e!.Message, Does.Contain("in-memory record 2").And.Contain("mixed"));

        using var plain = new GptModel(be, Config);
        var e2 = Assert.Throws<ArgumentException>(() => RewardTrainer.FromFeedback(plain, ByteTokenizer.Instance, Pairs(3, 1), null, Options(1)));
        Assert.That(e2!.Message, Does.Contain("reward head"));
    }

    [Test]
    public void RejectsAnIdenticalPairMadeInMemory()
    {
        using var be = new CpuBackend(2);
        using var model = NewModel(be);
        var pairs = new List<PreferencePair> { new("1+1=", "2", "3"), new("1+1=", "2", "2") };
        var e = Assert.Throws<DataFormatException>(() => RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, pairs, null, Options(1)));
        Assert.That(e!.Message, Is.EqualTo("in-memory feedback line 2: field \"rejected\" is identical to \"chosen\"; a preference needs two different completions"));
    }

    [Test]
    public void SavedRewardModelCarriesTheScoreHead()
    {
        using var be = new CpuBackend(2);
        using var dir = new TempDir();
        using var model = NewModel(be);
        string path = dir.File("model.safetensors");
        Gpt2Checkpoint.Save(path, model.Config, model.Heads, model.Parameters);
        Assert.That(ModelFiles.ReadInfo(path).Heads, Is.EqualTo(ModelHeads.Reward));
        using var loaded = ModelFiles.Load(path, be);
        using var s1 = new RewardScorer(model, 4, 8);
        using var s2 = new RewardScorer(loaded, 4, 8);
        int[][] seqs = [[1, 2, 3], [4, 5]];
        Assert.That(s2.Score(seqs), Is.EqualTo(s1.Score(seqs)));
    }
}
