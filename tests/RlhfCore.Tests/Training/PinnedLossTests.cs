using System.Globalization;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Data.Tasks;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.Rl;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Sft;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Training;

/// <summary>
/// The safety net for refactors of the trainers: each trainer's loss sequence for a fixed seed, on a
/// one-thread CPU backend, equals the sequence recorded before the refactor, bit for bit. The constants
/// were recorded from commit 2ce91ee (main) and must only change with a deliberate numerical change,
/// named in that commit's message. Each run goes through the trainer's own data path (held-out split,
/// shuffling, RNG), so a change to those shows here too.
/// </summary>
public class PinnedLossTests
{
    private static string Show(IEnumerable<double> xs) => string.Join(", ", xs.Select(x => x.ToString("R", CultureInfo.InvariantCulture)));

    private static void AssertPinned(List<double> actual, double[] pinned)
    {
        TestContext.Out.WriteLine(Show(actual));
        Assert.That(actual, Is.EqualTo(pinned), $"loss sequence changed; now: {Show(actual)}");
    }

    [Test]
    public void Sft()
    {
        var o = new SftOptions { Batch = 4, SeqLen = 12, Steps = 6, Lr = 3e-3f, Warmup = 2, GradAccum = 2, EvalFraction = 0.1, EvalEvery = 3, EvalBatches = 1, CheckpointEvery = 0, Seed = 5 };
        var task = new ArithmeticTask(MaxOperand: 10);
        var rng = new Rng(3);
        var records = Enumerable.Range(0, 40).Select(i =>
        {
            var d = task.SampleDemonstration(rng);
            return new SftRecord(d.Prompt, d.Completion, false, "mem", i + 1);
        }).ToList();
        var data = SftData.FromRecords(records, o, ByteTokenizer.Instance, 32, 260);
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 32, NumLayers: 1, NumHeads: 2, Channels: 16));
        model.InitializeWeights(o.Seed);
        using var trainer = new SftTrainer(model, data.Train, data.Eval, o);
        var losses = new List<double>();
        trainer.Run(CancellationToken.None, r => { losses.Add(r.Loss); if (r.EvalLoss is double e) losses.Add(e); }, _ => { });
        AssertPinned(losses, SftPinned);
    }

    [Test]
    public void Reward()
    {
        var o = new RewardOptions { Batch = 5, SeqLen = 8, Steps = 6, GradAccum = 2, Lr = 3e-3f, Warmup = 2, EvalEvery = 3, CheckpointEvery = 0, CenterRewardsCoefficient = 0.01, Seed = 9 };
        var task = new ArithmeticTask(MaxOperand: 10);
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 10, NumLayers: 1, NumHeads: 2, Channels: 16), ModelHeads.Reward);
        model.InitializeWeights(5);
        using var trainer = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, ArithmeticPreferences.Generate(task, 23, 1), ArithmeticPreferences.Generate(task, 7, 2), o);
        var losses = new List<double>();
        trainer.Run(CancellationToken.None, r => { losses.Add(r.Train.Loss); if (r.Eval is { } e) losses.Add(e.Loss); });
        AssertPinned(losses, RewardPinned);
    }

    [Test]
    public void Dpo()
    {
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);
        List<DpoExample> Pairs(int count, int seed)
        {
            var rng = new Random(seed);
            string Pick(string letters, int n) => new(Enumerable.Range(0, n).Select(_ => letters[rng.Next(letters.Length)]).ToArray());
            return DpoData.Tokenize(Enumerable.Range(0, count).Select(i => new PreferencePair(Pick("0123456789", 3), Pick("abcde", 2), Pick("vwxyz", 2)) { FilePath = "synthetic", Line = i + 1 }),
                ByteTokenizer.Instance, seqLen: 8, config.VocabSize);
        }
        var o = new DpoOptions { Beta = 0.5, Batch = 4, SeqLen = 8, Steps = 6, GradAccum = 2, Lr = 3e-3f, Warmup = 2, EvalEvery = 3, EvalBatches = 0, CheckpointEvery = 0, Seed = 5 };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config);
        policy.InitializeWeights(3);
        using var reference = new GptModel(be, config);
        reference.InitializeWeights(4);
        using var trainer = new DpoTrainer(policy, reference, Pairs(20, 1), Pairs(5, 2), o);
        var losses = new List<double>();
        trainer.Run(CancellationToken.None, r => { losses.Add(r.Train.Loss); if (r.Eval is { } e) losses.Add(e.Loss); }, _ => { });
        AssertPinned(losses, DpoPinned);
    }

    [TestCase(PolicyGradientMethod.Ppo)]
    [TestCase(PolicyGradientMethod.Rloo)]
    public void PolicyGradient(PolicyGradientMethod method)
    {
        var config = new GptConfig(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new PpoOptions
        {
            Method = method, PromptsPerStep = 4, MiniBatch = 4, Epochs = 2, MaxNewTokens = 3, StopAtEos = false,
            KlCoef = 0.05, Lr = 1e-2f, WeightDecay = 0, Steps = 4, CheckpointEvery = 0, Seed = 42,
        };
        var reward = new FunctionReward((_, response) => response.Count(c => c == 'h'));
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config, method == PolicyGradientMethod.Ppo ? ModelHeads.Value : ModelHeads.None);
        policy.InitializeWeights(5);
        using var reference = new GptModel(be, config);
        RlTestKit.CopyShared(policy, reference);
        using var trainer = new PpoTrainer(policy, reference, reward, new LetterTokenizer(13), ["a", "bc", "d"], o);
        var losses = new List<double>();
        trainer.Run(CancellationToken.None, r => { losses.Add(r.Metrics["loss/total_avg"]); losses.Add(r.Metrics["objective/kl"]); }, _ => { });
        AssertPinned(losses, method == PolicyGradientMethod.Ppo ? PpoPinned : RlooPinned);
    }

    // Recorded from commit 2ce91ee (main); change only with a deliberate numerical change. SFT, reward and DPO:
    // train losses with the eval loss after steps 3 and 6; PPO/RLOO: loss/total_avg and objective/kl per step.
    private static readonly double[] SftPinned = [5.564512372016907, 5.456388330459594, 5.377333362897238, 5.291407411748713, 5.314151440967213, 5.251642484135099, 5.21790611743927, 5.1962361335754395];
    private static readonly double[] RewardPinned = [0.7075723760665843, 0.6934761068533272, 0.6811331225036832, 0.6977276501309363, 0.7068776784959981, 0.6650650933608808, 0.6955799867209423, 0.6982765450954858];
    private static readonly double[] DpoPinned = [0.7376160165869223, 0.6991670615163652, 0.6036022688044125, 0.5634281022513973, 0.5304180203752505, 0.46650747271912796, 0.4422000969695327, 0.4763007750070275];
    private static readonly double[] PpoPinned = [-0.06882044077319083, 0, 0.01773290521088767, 0.09048378467559814, -0.035987991929784344, 0.11212319135665894, -0.023878228595457636, -0.02643585205078125];
    private static readonly double[] RlooPinned = [-0.04480481173048143, 0, -0.08624809088800614, 0.35033054649829865, -0.07812654304633163, 0.9204867258667946, -0.033557641718547054, 2.3196953535079956];
}
