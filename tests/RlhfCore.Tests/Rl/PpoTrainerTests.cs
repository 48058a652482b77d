using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tensors;
using RlhfCore.Tests.IO;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// The trainer end to end on a one-step bandit (prompt "a" → one token; reward 1 for "h" only): every
/// method must find the best token; plus resume equality, non-finite losses, and bad input.
/// </summary>
public class PpoTrainerTests
{
    private static readonly GptConfig Config = new(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);
    private static readonly LetterTokenizer Letters = new(13);
    private const int Best = 'h' - 'a';

    private sealed class Setup : IDisposable
    {
        public readonly CpuBackend Backend = new(1);
        public readonly GptModel Policy, Reference;

        public Setup(bool valueHead, ulong seed = 5)
        {
            Policy = new GptModel(Backend, Config, valueHead ? ModelHeads.Value : ModelHeads.None);
            Policy.InitializeWeights(seed);
            Reference = new GptModel(Backend, Config);
            RlTestKit.CopyShared(Policy, Reference);
        }

        public void Dispose()
        {
            Policy.Dispose();
            Reference.Dispose();
            Backend.Dispose();
        }

        /// <summary>π(token | prompt "a").</summary>
        public double Probability(int token)
        {
            using var acts = new GptActivations(Backend, Config, 1, 2);
            Backend.Upload<int>(acts.Tokens.Slice(0, 2), [0, token]);
            Backend.Upload<int>(acts.Positions.Slice(0, 2), [0, 1]);
            Backend.Upload<int>(acts.KeyMask.Slice(0, 2), [1, 1]);
            Backend.Upload<int>(acts.Targets.Slice(0, 2), [token, 0]);
            Policy.Forward(acts, 1, 2);
            Backend.TokenLogProbsForward(acts.Losses.Slice(0, 2), acts.Logits.Slice(0, 2 * 13, [2, 13]), acts.Targets.Slice(0, 2), 2, 13);
            var logp = new float[2];
            Backend.Download<float>(acts.Losses.Slice(0, 2), logp);
            return Math.Exp(logp[0]);
        }
    }

    private static readonly IRewardFunction BanditReward = new FunctionReward((_, response) => response == "h" ? 1 : 0);

    private static PpoOptions Bandit(PolicyGradientMethod method) => new()
    {
        Method = method, PromptsPerStep = 8, MiniBatch = 8, Epochs = 2, MaxNewTokens = 1, StopAtEos = false,
        KlCoef = 0.01, Lr = 2e-2f, WeightDecay = 0, Steps = 40, CheckpointEvery = 0, Seed = 42,
    };

    [TestCase(PolicyGradientMethod.Ppo)]
    [TestCase(PolicyGradientMethod.A2c)]
    [TestCase(PolicyGradientMethod.Reinforce)]
    [TestCase(PolicyGradientMethod.Rloo)]
    [TestCase(PolicyGradientMethod.Grpo)]
    [TestCase(PolicyGradientMethod.ReinforcePlusPlus)]
    public void BanditConvergesToTheBestToken(PolicyGradientMethod method)
    {
        var o = Bandit(method);
        using var s = new Setup(o.Resolve().UsesValueHead);
        double before = s.Probability(Best);
        using var trainer = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, ["a"], o);
        PpoStepReport? last = null;
        trainer.Run(CancellationToken.None, r => last = r, _ => { });
        double after = s.Probability(Best);
        TestContext.Out.WriteLine($"{method}: π(h) {before:F3} → {after:F3}; last scores {last!.Metrics["objective/scores"]:F3}, kl {last.Metrics["objective/kl"]:F3}");
        Assert.That(before, Is.LessThan(0.15));
        Assert.That(after, Is.GreaterThan(0.9), $"{method} did not find the best token");
        Assert.That(trainer.SkippedMinibatches, Is.Zero);
        foreach (string name in new[] { "objective/kl", "objective/entropy", "objective/non_score_reward", "objective/rlhf_reward", "objective/scores",
                     "policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "policy/entropy_avg", "val/ratio", "val/ratio_var",
                     "val/num_eos_tokens", "lr", "episode", "returns/mean", "advantages/std" })
            Assert.That(last.Metrics.ContainsKey(name), name);
        if (o.Resolve().UsesValueHead)
            Assert.That(last.Metrics.Keys, Does.Contain("loss/value_avg").And.Contain("val/clipfrac_avg").And.Contain("val/explained_variance"));
        Assert.That(last.Metrics["episode"], Is.EqualTo(o.Steps * o.RolloutSize));
    }

    [TestCase(PolicyGradientMethod.Ppo)]
    [TestCase(PolicyGradientMethod.Reinforce)]
    [TestCase(PolicyGradientMethod.Grpo)]
    [TestCase(PolicyGradientMethod.ReinforcePlusPlus)]
    public void ResumedRunEqualsUninterruptedBitForBit(PolicyGradientMethod method)
    {
        // Longer responses with EOS, an adaptive KL controller and two minibatches exercise every piece of state.
        var o = Bandit(method) with { MaxNewTokens = 3, StopAtEos = true, MissingEosPenalty = 0.5, KlTarget = 0.5, KlHorizon = 50, MiniBatch = 4, Steps = 4 };
        bool value = o.Resolve().UsesValueHead;
        string[] prompts = ["a", "bc", "d"];

        float[] straight;
        IReadOnlyDictionary<string, double> straightLast;
        using (var s = new Setup(value))
        using (var t = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, prompts, o))
        {
            PpoStepReport? last = null;
            t.Run(CancellationToken.None, r => last = r, _ => { });
            straight = RlTestKit.Parameters(s.Policy);
            straightLast = last!.Metrics;
        }

        using var dir = new TempDir();
        var store = new RlhfCore.Training.CheckpointStore(dir.Path);
        using (var s = new Setup(value))
        using (var t = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, prompts, o))
        {
            t.Step();
            t.Step();
            PpoCheckpoint.Save(store, s.Policy, t);
            t.Step(); // work after the checkpoint is thrown away
        }
        using (var original = new Setup(value))
        using (var s = new Setup(value, seed: 99)) // different initial weights: everything must come from the checkpoint
        {
            RlTestKit.CopyShared(original.Reference, s.Reference);
            using var t = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, prompts, o);
            PpoCheckpoint.Load(store, s.Policy, t);
            Assert.That(t.StepsDone, Is.EqualTo(2));
            PpoStepReport? last = null;
            t.Run(CancellationToken.None, r => last = r, _ => { });
            Assert.That(RlTestKit.Parameters(s.Policy), Is.EqualTo(straight), "parameters after resume");
            Assert.That(last!.Metrics, Is.EqualTo(straightLast), "last step's metrics after resume");
        }
    }

    [Test]
    public void ResumeRefusesAnotherReferenceModel()
    {
        var o = Bandit(PolicyGradientMethod.Ppo);
        using var dir = new TempDir();
        var store = new RlhfCore.Training.CheckpointStore(dir.Path);
        using (var s = new Setup(true))
        using (var t = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, ["a"], o))
            PpoCheckpoint.Save(store, s.Policy, t);
        using var other = new Setup(true, seed: 7);
        using var t2 = new PpoTrainer(other.Policy, other.Reference, BanditReward, Letters, ["a"], o);
        var e = Assert.Throws<InvalidOperationException>(() => PpoCheckpoint.Load(store, other.Policy, t2));
        Assert.That(e!.Message, Does.Contain("reference model differs"));
    }

    [Test]
    public void NonFiniteLossesAreSkippedAndNeverReachTheWeights()
    {
        int calls = 0;
        var reward = new FunctionReward((_, r) => calls++ < 8 ? double.NaN : r == "h" ? 1 : 0);
        var o = Bandit(PolicyGradientMethod.Ppo) with { Steps = 2 };
        using var s = new Setup(true);
        using var t = new PpoTrainer(s.Policy, s.Reference, reward, Letters, ["a"], o);
        var before = RlTestKit.Parameters(s.Policy);
        var first = t.Step();
        Assert.That(first.SkippedMinibatches, Is.EqualTo(2), "both epochs' minibatch skipped");
        Assert.That(first.Metrics["skipped_minibatches"], Is.EqualTo(2));
        Assert.That(double.IsNaN(first.Metrics["loss/policy_avg"]));
        Assert.That(RlTestKit.Parameters(s.Policy), Is.EqualTo(before), "a NaN step must not touch the weights");
        var second = t.Step();
        Assert.That(second.SkippedMinibatches, Is.Zero);
        var after = RlTestKit.Parameters(s.Policy);
        Assert.That(after, Is.Not.EqualTo(before));
        Assert.That(after.All(float.IsFinite));
        Assert.That(t.SkippedMinibatches, Is.EqualTo(2));
    }

    [Test]
    public void EarlyStopOnApproxKl()
    {
        var o = Bandit(PolicyGradientMethod.Ppo) with { Epochs = 8, TargetKl = 1e-9, Steps = 1 };
        using var s = new Setup(true);
        using var t = new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, ["a"], o);
        var report = t.Step();
        // The first minibatch runs at ratio 1 (approx-KL 0), the second already exceeds the tiny target.
        Assert.That(report.Metrics["epochs_run"], Is.EqualTo(2));
    }

    [Test]
    public void BadInputIsOneClearError()
    {
        using var s = new Setup(true);
        var o = Bandit(PolicyGradientMethod.Ppo);
        Assert.That(Assert.Throws<ArgumentException>(() => new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, ["abcdefgh"], o))!.Message,
            Does.Contain("prompt 0 has 8 tokens").And.Contain("context of 8"));
        Assert.That(Assert.Throws<ArgumentException>(() => new PpoTrainer(s.Policy, s.Reference, BanditReward, Letters, ["a", ""], o))!.Message,
            Does.Contain("prompt 1 is empty"));
        Assert.That(Assert.Throws<ArgumentException>(() => (o with { Method = PolicyGradientMethod.Rloo, SamplesPerPrompt = 1 }).Validate())!.Message,
            Does.Contain("--samples-per-prompt must be at least 2"));
        Assert.That(Assert.Throws<ArgumentException>(() => (o with { MiniBatch = 3 }).Validate())!.Message, Does.Contain("--mini-batch"));
        using var noValue = new Setup(false);
        Assert.That(Assert.Throws<ArgumentException>(() => new PpoTrainer(noValue.Policy, noValue.Reference, BanditReward, Letters, ["a"], o))!.Message,
            Does.Contain("value head"));
        Assert.Throws<ArgumentException>(() => new PpoTrainer(s.Policy, s.Policy, BanditReward, Letters, ["a"], o));
    }

    [Test]
    public void JsonlPromptErrorsNameTheLine()
    {
        using var dir = new TempDir();
        string path = dir.File("prompts.jsonl");
        File.WriteAllText(path, "{\"prompt\":\"ab\"}\n{\"text\":\"x\"}\n");
        var e = Assert.Throws<RlhfCore.Data.DataFormatException>(() => PromptSource.Load(path, 0, 1));
        Assert.That(e!.Message, Does.Contain("prompts.jsonl").And.Contain("2").And.Contain("prompt"));
        File.WriteAllText(path, "{\"prompt\":\"ab\"}\n{\"prompt\":\"\"}\n");
        Assert.That(Assert.Throws<RlhfCore.Data.DataFormatException>(() => PromptSource.Load(path, 0, 1))!.Message, Does.Contain("empty"));
        File.WriteAllText(path, "{\"prompt\":\"ab\"}\n\n{\"prompt\":\"c\"}\n");
        Assert.That(PromptSource.Load(path, 0, 1), Is.EqualTo(new[] { "ab", "c" }));
        Assert.That(PromptSource.Load(PromptSource.Arithmetic, 5, 1), Has.Count.EqualTo(5).And.All.Match("^[0-9]+\\+[0-9]+=$"));
    }
}
