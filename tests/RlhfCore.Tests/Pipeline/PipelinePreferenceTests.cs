using System.Text.Json;
using RlhfCore.Backends.Cpu;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// The preference stage of the pipeline (--method Dpo): a tiny round runs with every loss of <c>rlhf dpo</c>, the stage's
/// <see cref="DpoOptions"/> carry the flags (its <c>config.json</c>), KTO reads the round's pairs as unpaired examples,
/// ORPO and SimPO run with no reference model (the DPO step refuses one), and misplaced flags are refused up front.
/// </summary>
public class PipelinePreferenceTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-pipeline-dpo-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny(DpoLossKind loss) => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 30, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
        AnnotatorTieMargin = 0, RewardSteps = 4, RewardBatch = 4, PolicySteps = 3, PromptsPerStep = 4, EvalPrompts = 8, ShiftEvalPrompts = 4,
        Method = PipelineMethod.Dpo, DpoLoss = loss, OutDir = _dir, Threads = 2,
    };

    private static JsonElement StageConfig(string dir) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "round-1", "policy", "config.json"))).RootElement;

    [TestCase(DpoLossKind.Sigmoid, 0)]
    [TestCase(DpoLossKind.Sigmoid, 1)]
    [TestCase(DpoLossKind.Ipo, 0)]
    [TestCase(DpoLossKind.Kto, 0)]
    [TestCase(DpoLossKind.Orpo, 0)]
    [TestCase(DpoLossKind.Simpo, 0)]
    public void ATinyRound_RunsWithTheLoss(DpoLossKind loss, int refSyncEvery)
    {
        var o = Tiny(loss) with { RefSyncEvery = refSyncEvery, OrpoLambda = 0.3, SimpoGamma = 0.7, DesirableWeight = 1.5, UndesirableWeight = 0.8 };
        using var be = new CpuBackend(2);
        var logged = new List<string>();
        var (rounds, _) = new RlhfPipeline(o, be, logged.Add).Run(CancellationToken.None);
        Assert.That(rounds[1].GoldGreedy, Is.InRange(0.0, 1.0));
        Assert.That(File.Exists(Path.Combine(_dir, "round-1", "policy", "model.safetensors")));
        Assert.That(logged, Has.Some.Contains($"dpo ({loss}) step {o.PolicySteps}/{o.PolicySteps}"));
        var config = StageConfig(_dir);
        Assert.That(config.GetProperty("Loss").GetString(), Is.EqualTo(loss.ToString()));
        Assert.That(config.GetProperty("Beta").GetDouble(), Is.EqualTo(o.KlCoef));
        Assert.That(config.GetProperty("OrpoLambda").GetDouble(), Is.EqualTo(0.3));
        Assert.That(config.GetProperty("SimpoGamma").GetDouble(), Is.EqualTo(0.7));
        Assert.That(config.GetProperty("DesirableWeight").GetDouble(), Is.EqualTo(1.5));
        Assert.That(config.GetProperty("UndesirableWeight").GetDouble(), Is.EqualTo(0.8));
        Assert.That(config.GetProperty("RefSyncEvery").GetInt32(), Is.EqualTo(refSyncEvery));
    }

    [Test]
    public void KtoExamples_AreEachPairsChosenDesirableAndRejectedUndesirable()
    {
        var pairs = new[] { new RlhfCore.Feedback.PreferencePair("1+2=", "3", "4"), new RlhfCore.Feedback.PreferencePair("2+2=", "4", "5") };
        var examples = DpoData.Unpaired(pairs).ToList();
        Assert.That(examples.Select(e => (e.Prompt, e.Completion, e.Approved)),
            Is.EqualTo(new[] { ("1+2=", "3", true), ("1+2=", "4", false), ("2+2=", "4", true), ("2+2=", "5", false) }));
    }

    [Test]
    public void TheWeightDefaults_AreRlhfDposDefaults()
    {
        var pipeline = new PipelineOptions();
        var dpo = new DpoOptions();
        foreach (var p in typeof(IPreferenceLossSettings).GetProperties())
            Assert.That(p.GetValue(pipeline), Is.EqualTo(p.GetValue(dpo)), $"--{p.Name} defaults as in rlhf dpo");
        Assert.That(pipeline.DpoLoss, Is.EqualTo(dpo.Loss));
    }

    [Test]
    public void ADpoLossWithAnRlMethod_IsAnErrorNamingIt()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(DpoLossKind.Kto) with { Method = PipelineMethod.Rloo }).Validate())!;
        Assert.That(e.Message, Does.Contain("--dpo-loss").And.Contain("--method Rloo"));
    }

    [Test]
    public void RefSyncWithAReferenceFreeLoss_IsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(DpoLossKind.Orpo) with { RefSyncEvery = 2 }).Validate())!;
        Assert.That(e.Message, Does.Contain("--ref-sync-every").And.Contain("Orpo"));
    }

    [Test]
    public void AZeroBeta_NamesTheKlCoefFlag()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny(DpoLossKind.Simpo) with { KlCoef = 0 }).Validate())!;
        Assert.That(e.Message, Does.Contain("--kl-coef"));
    }
}
