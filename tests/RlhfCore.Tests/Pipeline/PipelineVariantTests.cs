using System.Text.Json;
using RlhfCore.Backends.Cpu;
using RlhfCore.Rl;
using RlhfCore.Training.Core;
using RlhfCore.Training.Pipeline;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// The PPO family's variants through the pipeline: every policy-gradient flag of <see cref="PipelineOptions"/> reaches
/// the RL stage's <see cref="PpoOptions"/> (and its <c>config.json</c>), tiny rounds with them run, and bad combinations
/// are refused before any stage runs, with <c>rlhf ppo</c>'s messages.
/// </summary>
public class PipelineVariantTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-pipeline-variants-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny(PipelineMethod method) => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 30, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
        AnnotatorTieMargin = 0, RewardSteps = 4, RewardBatch = 4, PolicySteps = 2, PromptsPerStep = 4, EvalPrompts = 8, ShiftEvalPrompts = 4,
        Method = method, OutDir = _dir, Threads = 2,
    };

    [Test]
    public void PolicyGradientOptions_CarriesEveryVariantAndTheReferenceSync()
    {
        var o = Tiny(PipelineMethod.Grpo) with
        {
            ClipLow = 0.1f, ClipHigh = 0.28f, DualClip = 3, LossAggregation = "seq-mean-token-sum-norm", ScaleRewards = "none",
            ImportanceLevel = ImportanceLevel.Sequence, DynamicSampling = true, DynamicSamplingTries = 5, OverlongBuffer = 2,
            OverlongPenaltyFactor = 0.5, RefSyncEvery = 2, RefMix = 0.3,
        };
        var ppo = o.PolicyGradientOptions(maxNewTokens: 4);
        var defaults = new PipelineOptions();
        foreach (var p in typeof(IPolicyGradientVariants).GetProperties().Concat(typeof(IReferenceSyncSettings).GetProperties()))
        {
            Assert.That(p.GetValue(o), Is.Not.EqualTo(p.GetValue(defaults)), $"{p.Name} is set away from its default, so the test can see it carried");
            Assert.That(p.GetValue(ppo), Is.EqualTo(p.GetValue(o)), $"{p.Name} reaches the RL stage");
        }
        Assert.That(ppo.Method, Is.EqualTo(PolicyGradientMethod.Grpo));
    }

    [Test]
    public void TheDefaults_AreRlhfPposDefaults()
    {
        var pipeline = new PipelineOptions();
        var ppo = new PpoOptions();
        foreach (var p in typeof(IPolicyGradientVariants).GetProperties().Concat(typeof(IReferenceSyncSettings).GetProperties()))
            Assert.That(p.GetValue(pipeline), Is.EqualTo(p.GetValue(ppo)), $"--{p.Name} defaults as in rlhf ppo");
    }

    [Test]
    public void TheVariantsHelp_IsDeclaredOnceOnTheInterface()
    {
        foreach (var name in new[] { "DualClip", "LossAggregation", "ImportanceLevel", "RefMix" })
        {
            string pipeline = OptionDescriptionAttribute.Of(typeof(PipelineOptions), typeof(PipelineOptions).GetProperty(name)!);
            Assert.That(pipeline, Is.Not.Empty, $"--{name} has help");
            Assert.That(pipeline, Is.EqualTo(OptionDescriptionAttribute.Of(typeof(PpoOptions), typeof(PpoOptions).GetProperty(name)!)), $"--{name}'s help is rlhf ppo's");
        }
    }

    private static JsonElement StageConfig(string dir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "round-1", "policy", "config.json"))).RootElement;

    [Test]
    public void GrpoWithDualClipAndClipHigher_RunsAndTheTrainerGetsBoth()
    {
        var o = Tiny(PipelineMethod.Grpo) with { DualClip = 3, ClipHigh = 0.28f };
        using var be = new CpuBackend(2);
        var (rounds, curve) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds, Has.Count.EqualTo(2));
        Assert.That(curve, Has.Count.EqualTo(o.PolicySteps));
        var config = StageConfig(_dir);
        Assert.That(config.GetProperty("Method").GetString(), Is.EqualTo("Grpo"));
        Assert.That(config.GetProperty("DualClip").GetSingle(), Is.EqualTo(3f));
        Assert.That(config.GetProperty("ClipHigh").GetSingle(), Is.EqualTo(0.28f));
    }

    [TestCase(PipelineMethod.Grpo, "gspo")]
    [TestCase(PipelineMethod.Grpo, "dapo")]
    [TestCase(PipelineMethod.Grpo, "dr-grpo")]
    [TestCase(PipelineMethod.ReinforcePlusPlus, "")]
    [TestCase(PipelineMethod.Rloo, "ref-sync")]
    public void ATinyRound_RunsWithTheVariant(PipelineMethod method, string variant)
    {
        var o = Tiny(method);
        o = variant switch
        {
            "gspo" => o with { ImportanceLevel = ImportanceLevel.Sequence },
            "dapo" => o with { ClipHigh = 0.28f, DynamicSampling = true, LossAggregation = "token-mean", OverlongBuffer = 1 },
            "dr-grpo" => o with { ScaleRewards = "none", LossAggregation = "seq-mean-token-sum-norm" },
            "ref-sync" => o with { RefSyncEvery = 1, RefMix = 0.5 },
            _ => o,
        };
        using var be = new CpuBackend(2);
        var (rounds, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds[1].GoldGreedy, Is.InRange(0.0, 1.0));
        var config = StageConfig(_dir);
        Assert.That(config.GetProperty("Method").GetString(), Is.EqualTo(o.RlMethod().ToString()));
        Assert.That(config.GetProperty("ImportanceLevel").GetString(), Is.EqualTo(o.ImportanceLevel.ToString()));
        Assert.That(config.GetProperty("DynamicSampling").GetBoolean(), Is.EqualTo(o.DynamicSampling));
        Assert.That(config.GetProperty("ScaleRewards").GetString(), Is.EqualTo(o.ScaleRewards));
        Assert.That(config.GetProperty("RefSyncEvery").GetInt32(), Is.EqualTo(o.RefSyncEvery));
    }

    [Test]
    public void ClipHighBelowClipLow_IsRefusedBeforeAnyStage()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(PipelineMethod.Ppo) with { ClipLow = 0.3f, ClipHigh = 0.1f }).Validate())!;
        Assert.That(e.Message, Does.Contain("--clip-high").And.Contain("--clip-low"));
    }

    [Test]
    public void SequenceLevelWithPpo_IsRefusedWithRlhfPposMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(PipelineMethod.Ppo) with { ImportanceLevel = ImportanceLevel.Sequence }).Validate())!;
        Assert.That(e.Message, Does.Contain("--importance-level sequence").And.Contain("--method Rloo or Grpo"));
    }

    [Test]
    public void AnOverlongBufferPastTheTasksLimit_NamesTheFlagAndTheLimit()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(PipelineMethod.Grpo) with { OverlongBuffer = 500 }).Validate())!;
        Assert.That(e.Message, Does.Contain("--overlong-buffer 500").And.Contain("response limit"));
    }

    [Test]
    public void APolicyGradientFlagWithDpo_IsAnErrorNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(PipelineMethod.Dpo) with { DualClip = 3 }).Validate())!;
        Assert.That(e.Message, Does.Contain("--dual-clip").And.Contain("--method Dpo"));
    }
}
