using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Rl;
using RlhfCore.Tests.IO;
using RlhfCore.Tests.Rl;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Ilql;
using RlhfCore.Tests.Ilql;
using RlhfCore.Tensors;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Sft;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Training;

/// <summary>
/// The one resumable-state contract, for every trainer and every optimizer: a run stopped after
/// <see cref="StopAt"/> steps, checkpointed, and continued in a fresh model and trainer ends with the same
/// parameters, bit for bit, as the run that was never stopped. Tiny models and few steps, so the whole matrix
/// runs in seconds.
/// </summary>
public class ResumeMatrixTests
{
    private const int Steps = 4, StopAt = 2;

    /// <summary>One trainer over a fresh model: its training, its checkpoint, and its parameters.</summary>
    private sealed class Session(GptModel model, IDisposable[] owned, Action<CancellationToken, Action> train,
        Action<CheckpointStore> save, Action<CheckpointStore> load, TensorArena? alsoCompared = null) : IDisposable
    {
        public void Train(CancellationToken cancel, Action afterStep) => train(cancel, afterStep);
        public void Save(CheckpointStore store) => save(store);
        public void Load(CheckpointStore store) => load(store);

        public float[] Parameters()
        {
            var values = new float[model.Parameters.All.Length];
            model.Backend.Download<float>(model.Parameters.All, values);
            if (alsoCompared == null) return values;
            var more = new float[alsoCompared.All.Length];
            model.Backend.Download<float>(alsoCompared.All, more);
            return [.. values, .. more];
        }

        public void Dispose()
        {
            foreach (var d in owned) d.Dispose();
        }
    }

    private static Session Sft(CpuBackend be, OptimizerKind kind)
    {
        var o = new SftOptions { Batch = 4, SeqLen = 12, Steps = Steps, Lr = 3e-3f, Warmup = 1, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5, Optimizer = kind };
        var task = new ArithmeticTask(MaxOperand: 10);
        var rng = new Rng(3);
        var records = Enumerable.Range(0, 40).Select(i =>
        {
            var d = task.SampleDemonstration(rng);
            return new SftRecord(d.Prompt, d.Completion, false, "mem", i + 1);
        }).ToList();
        var data = SftData.FromRecords(records, o with { EvalFraction = 0 }, ByteTokenizer.Instance, 32, 260);
        var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 32, NumLayers: 1, NumHeads: 2, Channels: 16));
        model.InitializeWeights(o.Seed);
        var t = new SftTrainer(model, data.Train, null, o);
        return new Session(model, [t, model], (c, after) => t.Run(c, _ => after(), _ => { }),
            s => s.Save(model, t.Optimizer, t.CaptureState()), s => t.RestoreState(s.Load(model, t.Optimizer)));
    }

    private static Session Reward(CpuBackend be, OptimizerKind kind)
    {
        var o = new RewardOptions { Batch = 5, SeqLen = 8, Steps = Steps, GradAccum = 2, Lr = 3e-3f, Warmup = 1, EvalEvery = 0, CheckpointEvery = 0, Seed = 9, Optimizer = kind };
        var task = new ArithmeticTask(MaxOperand: 10);
        var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 10, NumLayers: 1, NumHeads: 2, Channels: 16), ModelHeads.Reward);
        model.InitializeWeights(5);
        var t = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, ArithmeticPreferences.Generate(task, 23, 1), null, o);
        return new Session(model, [t, model], (c, after) => t.Run(c, _ => after()),
            s => s.Save(model, t.Optimizer, t.CaptureState()), s => t.RestoreState(s.Load(model, t.Optimizer)));
    }

    private static Session Dpo(CpuBackend be, OptimizerKind kind)
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        var rng = new Random(1);
        string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
        var pairs = DpoData.Tokenize(Enumerable.Range(0, 20).Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 }),
            ByteTokenizer.Instance, seqLen: 8, config.VocabSize);
        var o = new DpoOptions { Beta = 0.5, Batch = 4, SeqLen = 8, Steps = Steps, GradAccum = 2, Lr = 3e-3f, Warmup = 1, EvalEvery = 0, CheckpointEvery = 0, Seed = 5, Optimizer = kind };
        var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        var reference = new GptModel(be, config);
        reference.InitializeWeights(4);
        var t = new DpoTrainer(policy, reference, pairs, null, o);
        return new Session(policy, [t, policy, reference], (c, after) => t.Run(c, _ => after(), _ => { }),
            s => s.Save(policy, t.Optimizer, t.CaptureState()), s => t.RestoreState(s.Load(policy, t.Optimizer)));
    }

    private static Session Ppo(CpuBackend be, OptimizerKind kind)
    {
        var config = new GptConfig(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new PpoOptions
        {
            Method = PolicyGradientMethod.Ppo, PromptsPerStep = 4, MiniBatch = 4, Epochs = 2, MaxNewTokens = 3, StopAtEos = false,
            KlCoef = 0.05, KlTarget = 0.5, Lr = 1e-2f, Steps = Steps, CheckpointEvery = 0, Seed = 42, Optimizer = kind,
        };
        var policy = new GptModel(be, config, ModelHeads.Value);
        policy.InitializeWeights(5);
        var reference = new GptModel(be, config);
        RlTestKit.CopyShared(policy, reference);
        var t = new PpoTrainer(policy, reference, new FunctionReward((_, response) => response.Count(c => c == 'h')), new LetterTokenizer(13), ["a", "bc", "d"], o);
        return new Session(policy, [t, policy, reference], (c, after) => t.Run(c, _ => after(), _ => { }),
            s => PpoCheckpoint.Save(s, policy, t), s => PpoCheckpoint.Load(s, policy, t));
    }

    /// <summary>ILQL: the policy and its heads (targets included, synced every step) are compared.</summary>
    private static Session Ilql(CpuBackend be, OptimizerKind kind)
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new IlqlOptions { Batch = 4, SeqLen = 8, Steps = Steps, GradAccum = 2, Lr = 3e-3f, Warmup = 1, EvalEvery = 0, CheckpointEvery = 0, Seed = 5, Optimizer = kind, TargetSyncEvery = 1, Alpha = 0.3 };
        var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        var t = new IlqlTrainer(policy, IlqlTestKit.Sequences(20, o.SeqLen), null, o);
        return new Session(policy, [t, policy], (c, after) => t.Run(c, _ => after(), _ => { }), s => t.SaveCheckpoint(s), s => t.LoadCheckpoint(s), t.Heads.Parameters);
    }

    private static Func<CpuBackend, OptimizerKind, Session> Factory(string trainer) => trainer switch
    {
        "ilql" => Ilql,
        "sft" => Sft,
        "reward" => Reward,
        "dpo" => Dpo,
        "ppo" => Ppo,
        _ => throw new ArgumentException(trainer),
    };

    [Test]
    public void ResumedRunEqualsUninterruptedRun(
        [Values("sft", "reward", "dpo", "ppo", "ilql")] string trainer,
        [Values(OptimizerKind.AdamW, OptimizerKind.Sgd, OptimizerKind.Lion, OptimizerKind.Muon)] OptimizerKind kind)
    {
        var make = Factory(trainer);
        using var be = new CpuBackend(1);
        float[] initial, straight;
        using (var s = make(be, kind))
        {
            initial = s.Parameters();
            s.Train(CancellationToken.None, () => { });
            straight = s.Parameters();
        }
        Assert.That(straight, Is.Not.EqualTo(initial), "the run must move the weights");

        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        using (var s = make(be, kind))
        {
            using var stop = new CancellationTokenSource();
            int done = 0;
            s.Train(stop.Token, () => { if (++done == StopAt) stop.Cancel(); });
            Assert.That(done, Is.EqualTo(StopAt));
            s.Save(store);
        }
        using (var s = make(be, kind))
        {
            s.Load(store);
            int done = 0;
            s.Train(CancellationToken.None, () => done++);
            Assert.That(done, Is.EqualTo(Steps - StopAt), "the resumed run continues where the first stopped");
            var resumed = s.Parameters();
            for (int i = 0; i < straight.Length; i++)
                if (BitConverter.SingleToInt32Bits(resumed[i]) != BitConverter.SingleToInt32Bits(straight[i]))
                    Assert.Fail($"{trainer} with {kind}: parameter {i} is {resumed[i]:R} after resuming, {straight[i]:R} uninterrupted");
        }
    }
}
