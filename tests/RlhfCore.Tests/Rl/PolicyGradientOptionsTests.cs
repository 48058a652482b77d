using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.IO;
using RlhfCore.Tests.Model;
using CliRunner = RlhfCore.Tests.Reliability.Cli;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// Issue 10's policy-gradient options as the trainer and the CLI wire them: the dual clip, GSPO's sequence ratio,
/// REINFORCE++, GRPO's reward scaling, dynamic sampling and the overlong penalty each change what they should, and
/// their bad input is one clear error naming the flags.
/// </summary>
public class PolicyGradientOptionsTests
{
    private const int B = 3, T = 7;

    /// <summary>A tiny model, its activations with a random rollout uploaded, and the rollout's current log-probabilities.</summary>
    private sealed class Batch : IDisposable
    {
        public readonly CpuBackend Backend = new(1);
        public readonly GptModel Model;
        public readonly GptActivations Acts;
        public readonly RolloutBatch Rollout;
        public readonly float[] Logp;

        public Batch(int seed)
        {
            Model = new GptModel(Backend, TinyModels.Config);
            TinyModels.RandomizeParameters(Model, seed);
            Acts = new GptActivations(Backend, TinyModels.Config, B, T);
            Rollout = RlTestKit.RandomRollout(new Random(seed), B, T, TinyModels.Config.VocabSize);
            Rollout.Upload(Backend, Acts, [0, 1, 2]);
            int N = B * T, V = TinyModels.Config.VocabSize;
            Model.Forward(Acts, B, T);
            Backend.TokenLogProbsForward(Acts.Losses.Slice(0, N), Acts.Logits.Slice(0, (long)N * V, [N, V]), Acts.Targets.Slice(0, N), N, V);
            Logp = new float[N];
            Backend.Download<float>(Acts.Losses.Slice(0, N), Logp);
        }

        public PolicyLossStats Run(PolicyLossSettings settings, PolicyLossInputs x, out float[] logp, out double[] ratios)
        {
            using var loss = new PolicyLoss(Model, Acts, settings);
            var s = loss.Run(x, 0.1, backward: false);
            (logp, ratios) = (loss.Logp.ToArray(), loss.SequenceRatios.ToArray());
            return s;
        }

        public void Dispose()
        {
            Acts.Dispose();
            Model.Dispose();
            Backend.Dispose();
        }
    }

    private static PolicyLossSettings Settings(PolicyClip? clip = null, bool sequence = false) =>
        new(0.2f, 0.2f, VfCoef: 0f, EntropyCoef: 0f, KlInLoss: false, KlEstimator.K1, Temperature: 1f, Clip: clip, SequenceLevel: sequence);

    [Test]
    public void DualClip_BoundsNegativeAdvantagesWithALargeRatio()
    {
        using var b = new Batch(31);
        var mask = b.Rollout.Mask;
        // ratio e^0.6 ≈ 1.82 > c = 1.5 on every action row, advantages −1: the dual clip binds everywhere.
        var x = new PolicyLossInputs(mask, b.Logp.Select(l => l - 0.6f).ToArray(), b.Logp, mask.Select(m => -m).ToArray(), new float[mask.Length], new float[mask.Length]);
        var off = b.Run(Settings(), x, out _, out _);
        var on = b.Run(Settings(new PolicyClip(0.2f, 0.2f, 1.5f)), x, out _, out _);
        Assert.That(off.DualClipFrac, Is.Zero);
        Assert.That(on.DualClipFrac, Is.EqualTo(1).Within(1e-6), "policy/clipfrac_lower");
        Assert.That(on.PolicyLoss, Is.EqualTo(1.5).Within(1e-5), "−A·c with A = −1");
        Assert.That(off.PolicyLoss, Is.EqualTo(Math.Exp(0.6)).Within(1e-4), "unclipped −A·r (the ratio clip does not bind for A < 0 and r > 1 + ε)");
    }

    [Test]
    public void SequenceLevel_RatioIsExpOfTheMeanTokenLogRatio_EndToEnd()
    {
        using var b = new Batch(32);
        var mask = b.Rollout.Mask;
        var rng = new Random(7);
        var old = b.Logp.Select(l => l - (float)(0.3 * (rng.NextDouble() - 0.5))).ToArray();
        var adv = new float[mask.Length];
        for (int n = 0; n < adv.Length; n++) adv[n] = mask[n] * (n / T - 1f);
        var x = new PolicyLossInputs(mask, old, b.Logp, adv, new float[mask.Length], new float[mask.Length]);
        b.Run(Settings(), x, out var tokenLogp, out var none);
        var s = b.Run(Settings(new PolicyClip(0.2f, 0.28f, 0f), sequence: true), x, out var seqLogp, out var ratios);
        Assert.That(none, Is.Empty);
        Assert.That(seqLogp, Is.EqualTo(tokenLogp).Within(1e-5), "both levels see the same per-token log-probabilities (two kernels)");
        for (int i = 0; i < B; i++)
        {
            double sum = 0, len = 0;
            for (int t = i * T; t < (i + 1) * T; t++) if (mask[t] != 0) { sum += (double)seqLogp[t] - old[t]; len++; }
            Assert.That(ratios[i], Is.EqualTo(Math.Exp(sum / Math.Max(len, 1))).Within(1e-9), $"sequence {i}");
        }
        Assert.That(s.Ratio, Is.Not.EqualTo(1.0), "the ratios moved");
    }

    private static readonly IRewardFunction Bandit = new FunctionReward((_, response) => response == "h" ? 1 : 0);
    private static readonly GptConfig Config = new(VocabSize: 13, MaxSeqLen: 8, NumLayers: 1, NumHeads: 2, Channels: 16);

    private static PpoOptions Options(PolicyGradientMethod method) => new()
    {
        Method = method, PromptsPerStep = 4, MiniBatch = 4, Epochs = 1, MaxNewTokens = 3, StopAtEos = false,
        KlCoef = 0.01, Lr = 1e-2f, WeightDecay = 0, Steps = 1, CheckpointEvery = 0, Seed = 42,
    };

    private static PpoStepReport FirstStep(PpoOptions o, IRewardFunction? reward = null)
    {
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, Config, o.Resolve().UsesValueHead ? ModelHeads.Value : ModelHeads.None);
        policy.InitializeWeights(5);
        using var reference = new GptModel(be, Config);
        RlTestKit.CopyShared(policy, reference);
        using var t = new PpoTrainer(policy, reference, reward ?? Bandit, new LetterTokenizer(13), ["a", "bc"], o);
        return t.Step();
    }

    [Test]
    public void OverlongPenalty_LowersEveryScoreByItsShare()
    {
        var o = Options(PolicyGradientMethod.Rloo);
        var plain = FirstStep(o);
        // Every response has 3 tokens (no EOS): penalty −(3 − (3 − 2))/2 · 0.5 = −0.5.
        var shaped = FirstStep(o with { OverlongBuffer = 2, OverlongPenaltyFactor = 0.5 });
        Assert.That(shaped.Scores, Is.EqualTo(plain.Scores.Select(s => s - 0.5).ToArray()).Within(1e-12));
        Assert.That(shaped.Rollout.ResponseTexts, Is.EqualTo(plain.Rollout.ResponseTexts), "the same samples");
    }

    [Test]
    public void ScaleRewardsNone_LeavesGrpoAdvantagesUnscaled()
    {
        var reward = new FunctionReward((_, response) => response.Count(c => c == 'h') * 3.0 + response.Length);
        var o = Options(PolicyGradientMethod.Grpo) with { MaxNewTokens = 2, StopAtEos = true, SamplesPerPrompt = 4, MiniBatch = 8 };
        var group = FirstStep(o, reward);
        var none = FirstStep(o with { ScaleRewards = "none" }, reward);
        Assert.That(none.Scores, Is.EqualTo(group.Scores));
        Assert.That(group.Metrics["advantages/std"], Is.Not.EqualTo(none.Metrics["advantages/std"]));
        // Without scaling, the advantages are R − the group's mean: their mean over tokens is what the scores give.
        Assert.That(none.Metrics["advantages/mean"], Is.Not.NaN);
    }

    [Test]
    public void DynamicSampling_RefillsWithGroupsThatVary_AndLogsItsDraws()
    {
        var o = Options(PolicyGradientMethod.Grpo) with { MaxNewTokens = 1, SamplesPerPrompt = 4, MiniBatch = 8, DynamicSampling = true, DynamicSamplingTries = 4 };
        var report = FirstStep(o);
        Assert.That(report.Metrics["dynamic_sampling/draws"], Is.InRange(1, 4));
        for (int g = 0; g < o.PromptsPerStep; g++)
        {
            var scores = report.Scores.Skip(g * 4).Take(4).ToArray();
            Assert.That(scores.Distinct().Count(), Is.GreaterThan(1), $"group {g} has rewards that differ");
        }
    }

    [Test]
    public void DynamicSampling_WithAConstantReward_IsOneErrorNamingTheFlags()
    {
        var o = Options(PolicyGradientMethod.Grpo) with { MaxNewTokens = 1, SamplesPerPrompt = 2, DynamicSampling = true, DynamicSamplingTries = 2 };
        var e = Assert.Throws<InvalidOperationException>(() => FirstStep(o, new FunctionReward((_, _) => 1.0)))!;
        Assert.That(e.Message, Does.Contain("--dynamic-sampling-tries (now 2)").And.Contain("--dynamic-sampling"));
    }

    [Test]
    public void DynamicSampling_ErrorThroughTheCli_NamesTheFlag()
    {
        using var dir = new TempDir();
        // An untrained policy never solves the arithmetic prompts in one byte: every gold reward is 0.
        var r = CliRunner.InProcess("ppo", "--reward", "gold", "--model", "byte-tiny", "--method", "Grpo", "--dynamic-sampling", "--dynamic-sampling-tries", "2",
            "--prompts-per-step", "2", "--mini-batch", "8", "--max-new-tokens", "1", "--stop-at-eos", "false", "--steps", "1", "--prompt-pool", "16",
            "--out-dir", Path.Combine(dir.Path, "run"));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.StartWith("error: dynamic sampling:").And.Contain("--dynamic-sampling-tries"));
    }

    [Test]
    public void EveryVariantTogether_ResumesBitForBit()
    {
        var o = Options(PolicyGradientMethod.Grpo) with
        {
            Steps = 4, Epochs = 2, SamplesPerPrompt = 4, MiniBatch = 4, MaxNewTokens = 3, StopAtEos = true, ClipLow = 0.2f, ClipHigh = 0.28f, DualClip = 2f,
            LossAggregation = "seq-mean-token-sum-norm", ScaleRewards = "batch", DynamicSampling = true, DynamicSamplingTries = 3, OverlongBuffer = 2,
        };
        string[] prompts = ["a", "bc"];
        GptModel Policy(CpuBackend be)
        {
            var m = new GptModel(be, Config);
            m.InitializeWeights(5);
            return m;
        }
        float[] straight;
        using (var be = new CpuBackend(1))
        using (var policy = Policy(be))
        using (var reference = Policy(be))
        using (var t = new PpoTrainer(policy, reference, Bandit, new LetterTokenizer(13), prompts, o))
        {
            t.Run(CancellationToken.None, _ => { }, _ => { });
            straight = RlTestKit.Parameters(policy);
        }
        using var dir = new TempDir();
        var store = new RlhfCore.Training.CheckpointStore(dir.Path);
        using (var be = new CpuBackend(1))
        using (var policy = Policy(be))
        using (var reference = Policy(be))
        using (var t = new PpoTrainer(policy, reference, Bandit, new LetterTokenizer(13), prompts, o))
        {
            t.Step(); t.Step();
            PpoCheckpoint.Save(store, policy, t);
        }
        using (var be = new CpuBackend(1))
        using (var policy = new GptModel(be, Config))
        using (var reference = Policy(be))
        using (var t = new PpoTrainer(policy, reference, Bandit, new LetterTokenizer(13), prompts, o))
        {
            PpoCheckpoint.Load(store, policy, t);
            t.Run(CancellationToken.None, _ => { }, _ => { });
            Assert.That(RlTestKit.Parameters(policy), Is.EqualTo(straight));
        }
    }

    [TestCase("--clip-low 0.3 --clip-high 0.2", "--clip-high 0.2 is below --clip-low 0.3")]
    [TestCase("--dual-clip 0.5", "--dual-clip: 0.5 must be above 1")]
    [TestCase("--loss-aggregation mean", "--loss-aggregation: 'mean' is not one of token-mean")]
    [TestCase("--scale-rewards none", "--scale-rewards none scales GRPO's group advantages")]
    [TestCase("--method Grpo --scale-rewards std", "--scale-rewards: 'std' is not one of group, batch, none")]
    [TestCase("--importance-level Sequence", "--importance-level sequence (GSPO) needs one advantage per sequence")]
    [TestCase("--method Grpo --importance-level Sequence --dual-clip 3", "--dual-clip is token-level")]
    [TestCase("--method Ppo --dynamic-sampling", "--dynamic-sampling drops prompt groups")]
    [TestCase("--overlong-buffer 9 --max-new-tokens 8", "--overlong-buffer 9 is longer than --max-new-tokens 8")]
    [TestCase("--method ReinforcePlusPlus --kl-penalty Loss", "--method ReinforcePlusPlus puts the KL penalty in the reward")]
    [TestCase("--clip-low 1", "--clip-low: 1 must be below 1")]
    public void BadPolicyGradientFlags_AreOneErrorNamingThem(string flags, string message)
    {
        var r = CliRunner.InProcess(["ppo", .. flags.Split(' '), "--dry-run"]);
        Assert.That(r.Code, Is.Not.Zero, r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.StartWith("error: " + message));
        Assert.That(r.Stdout, Is.Empty);
    }

    [Test]
    public void DefaultFlags_ResolveToTodaysLoss()
    {
        var m = new PpoOptions().Resolve();
        Assert.That(m.Clip, Is.Null, "±clip-range without the dual clip");
        Assert.That(m.Aggregation, Is.EqualTo(LossAggregation.TokenMean), "TRL's masked mean, the weights PolicyLoss used before the flag");
        Assert.That(m.Scaling, Is.EqualTo(RewardScaling.Group));
        Assert.That(m.SequenceLevel, Is.False);
        var dapo = (new PpoOptions { ClipHigh = 0.28f }).Resolve().Clip;
        Assert.That(dapo, Is.EqualTo(new PolicyClip(0.2f, 0.28f, 0f)), "clip-low defaults to clip-range");
    }
}
