using RlhfCore.Backends.Cpu;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// The iterative loop on a tiny model: every stage writes its artifacts, a second run resumes without
/// redoing any stage, and human-label mode stops with the exact command to run, then continues.
/// </summary>
public class RlhfPipelineTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-pipeline-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny(PipelineMethod method = PipelineMethod.Rloo, LabelSource labels = LabelSource.Simulated) => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 40, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
        AnnotatorTieMargin = 0, RewardSteps = 6, RewardBatch = 4, RewardEnsemble = 1, PolicySteps = 3, PromptsPerStep = 4, EvalPrompts = 8, Method = method, Labels = labels,
        OutDir = _dir, Threads = 2,
    };

    [Test]
    public void RunWritesEveryStageAndResumesWithoutRedoingAny()
    {
        var o = Tiny();
        using var be = new CpuBackend(2);
        var (rounds, curve) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds.Select(r => r.Round), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(curve, Has.Count.EqualTo(o.PolicySteps));
        Assert.That(rounds[1].Pairs, Is.GreaterThan(0));
        Assert.That(rounds[1].RewardModelAccuracy, Is.InRange(0.0, 1.0));
        string[] artifacts =
        [
            "sft/model.safetensors", "sft/evaluation.json", "round-1/comparisons.jsonl", "round-1/pairs.jsonl",
            "round-1/reward/model.safetensors", "round-1/reward/reward.json", "round-1/policy/model.safetensors",
            "round-1/policy/curve.json", "round-1/evaluation.json", "rounds.csv", "curve.csv", "overoptimization.svg", "rounds.svg",
        ];
        foreach (var a in artifacts) Assert.That(File.Exists(Path.Combine(_dir, a)), $"{a} written");
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "rounds.csv")), Has.Length.EqualTo(3), "header + SFT + round 1");
        Assert.That(ComparisonFile.Read(Path.Combine(_dir, "round-1/comparisons.jsonl")), Has.Count.EqualTo(o.ComparisonsPerRound));

        var stamps = artifacts.Where(a => a.StartsWith("sft/") || a.StartsWith("round-1/"))
            .ToDictionary(a => a, a => File.GetLastWriteTimeUtc(Path.Combine(_dir, a)));
        var logged = new List<string>();
        var (again, _) = new RlhfPipeline(o, be, logged.Add).Run(CancellationToken.None);
        Assert.That(again, Is.EqualTo(rounds), "a resumed run reports the same rounds");
        foreach (var (a, t) in stamps) Assert.That(File.GetLastWriteTimeUtc(Path.Combine(_dir, a)), Is.EqualTo(t), $"{a} was not rewritten");
        Assert.That(logged, Has.Some.Contains("sft: using"));
    }

    /// <summary>All parameters of a model file, reward head included, as one array.</summary>
    private static float[] Weights(string path, CpuBackend be)
    {
        using var model = RlhfCore.IO.ModelFiles.Load(path, be);
        var w = new float[model.Parameters.All.Length];
        be.Download<float>(model.Parameters.All, w);
        return w;
    }

    [TestCase(RewardInit.Previous, true)]
    [TestCase(RewardInit.Sft, false)]
    public void PreviousRewardInit_ContinuesTheLastRoundsModel(RewardInit init, bool continues)
    {
        // At a learning rate too small to move anything, a round-2 reward model that continues round 1's
        // ends where round 1's ended; one from the SFT trunk gets a fresh head of its own and does not.
        var o = Tiny() with { Rounds = 2, RewardLr = 1e-9f, RewardInit = init, ContinuedRewardSteps = init == RewardInit.Previous ? 2 : new PipelineOptions().ContinuedRewardSteps };
        using var be = new CpuBackend(2);
        new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        var first = Weights(Path.Combine(_dir, "round-1/reward/model.safetensors"), be);
        var second = Weights(Path.Combine(_dir, "round-2/reward/model.safetensors"), be);
        double maxDiff = first.Zip(second, (a, b) => Math.Abs(a - b)).Max();
        if (continues) Assert.That(maxDiff, Is.LessThan(1e-5), "round 2 starts from round 1's reward model");
        else Assert.That(maxDiff, Is.GreaterThan(1e-3), "round 2 starts from the SFT trunk with a fresh head");
        int steps = File.ReadAllLines(Path.Combine(_dir, "round-2/reward/metrics.jsonl")).Length;
        Assert.That(steps, Is.EqualTo(continues ? 2 : o.RewardSteps), "a continued reward model trains --continued-reward-steps steps");
    }

    [Test]
    public void PreviousRewardInit_WithAMemberTheLastRoundLacks_NamesTheMissingFile()
    {
        // Round 1 trained an ensemble of 2; a round 2 of 3 members has no round-1 member-2 to continue.
        var o = Tiny() with { Rounds = 2, RewardInit = RewardInit.Previous, ContinuedRewardSteps = 2 };
        using var be = new CpuBackend(2);
        new RlhfPipeline(o with { Rounds = 1, RewardEnsemble = 2 }, be, _ => { }).Run(CancellationToken.None);
        string missing = Path.Combine(_dir, "round-1", "reward", "member-2", "model.safetensors");
        var e = Assert.Throws<FileNotFoundException>(() => new RlhfPipeline(o with { RewardEnsemble = 3 }, be, _ => { }).Run(CancellationToken.None))!;
        Assert.That(e.Message, Does.Contain(missing).And.Contain("--reward-init Previous").And.Contain("--reward-ensemble"));
    }

    [Test]
    public void ContinuedRewardSteps_WithoutPreviousInit_IsAnErrorNamingBothFlags()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny() with { RewardInit = RewardInit.Sft, ContinuedRewardSteps = 5 }).Validate())!;
        Assert.That(e.Message, Does.Contain("--continued-reward-steps").And.Contain("--reward-init Previous"));
    }

    [Test]
    public void HumanLabelsPauseWithTheLabelCommandThenContinue()
    {
        var o = Tiny(labels: LabelSource.Human);
        using var be = new CpuBackend(2);
        var e = Assert.Throws<AwaitingLabelsException>(() => new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None))!;
        string comparisons = Path.Combine(_dir, "round-1", "comparisons.jsonl");
        Assert.That(e.Message, Does.Contain("rlhf label --input " + comparisons));
        Assert.That(File.Exists(comparisons));

        // A person labels every item "a" (the first completion) through the scripted label session.
        var items = ComparisonFile.Read(comparisons);
        string labels = Path.Combine(_dir, "round-1", "labels");
        var keys = new StringReader(string.Join("\n", items.Select(i => i.Identical ? "t" : "a")) + "\n");
        RlhfCore.Cli.Label.LabelSession.Run(comparisons, labels, keys, TextWriter.Null);

        var (rounds, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        int usable = items.Count(i => !i.Identical);
        Assert.That(rounds[1].Pairs, Is.EqualTo(usable), "every A/B judgment of two different completions becomes a pair, an empty completion included (prompt + EOS)");
    }

    [Test]
    public void DpoRoundCompletes()
    {
        using var be = new CpuBackend(2);
        var (rounds, curve) = new RlhfPipeline(Tiny(PipelineMethod.Dpo), be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds, Has.Count.EqualTo(2));
        Assert.That(curve, Is.Empty, "DPO has no rollouts, so no curve");
        Assert.That(File.Exists(Path.Combine(_dir, "round-1/policy/model.safetensors")));
    }

    [TestCase(RewardInit.Sft)]
    [TestCase(RewardInit.Fresh)]
    public void RewardModelStartsFromTheSftTrunkOrFresh(RewardInit init)
    {
        // A learning rate too small to move any weight leaves the trained reward model's trunk where it started.
        var o = Tiny() with { RewardInit = init, RewardLr = 1e-20f };
        using var be = new CpuBackend(2);
        new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        using var sft = RlhfCore.IO.SafetensorsFile.Open(Path.Combine(_dir, "sft/model.safetensors"));
        using var rm = RlhfCore.IO.SafetensorsFile.Open(Path.Combine(_dir, "round-1/reward/model.safetensors"));
        Assert.That(rm.Entries.Select(e => e.Name), Has.Some.Contains("score"), "the reward model has a reward head");
        var shared = sft.Entries.Select(e => e.Name).Where(rm.Contains).ToList();
        Assert.That(shared, Has.Count.GreaterThan(10), "the trunk's tensors are in both files");
        bool same = shared.All(k => sft.ReadFloat32(k).SequenceEqual(rm.ReadFloat32(k)));
        Assert.That(same, Is.EqualTo(init == RewardInit.Sft), init == RewardInit.Sft ? "trunk copied from SFT" : "fresh trunk");
    }

    [Test]
    public void RewardModelPresetNeedsAFreshReward()
    {
        var e = Assert.Throws<ArgumentException>(() => (Tiny() with { RewardModel = "byte-medium" }).Validate())!;
        Assert.That(e.Message, Does.Contain("--reward-init Fresh"));
        Assert.DoesNotThrow(() => (Tiny() with { RewardModel = "byte-medium", RewardInit = RewardInit.Fresh }).Validate());
    }

    [Test]
    public void TooFewPairsForARewardModelIsOneClearError()
    {
        // Arithmetic's gold rewards differ by at most 1, so a tie margin of 2 makes every comparison a tie: no pairs.
        var o = Tiny() with { AnnotatorTieMargin = 2 };
        using var be = new CpuBackend(2);
        var e = Assert.Throws<InvalidOperationException>(() => new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None))!;
        Assert.That(e.Message, Does.Contain("round 1 has").And.Contain("--comparisons-per-round"));
    }

    /// <summary>
    /// A round frees every device buffer it allocates: the models it loads, and the reward-model scorers (PPO's,
    /// the evaluation's, the diagnostics') that hold activations on the device. A scorer created and never
    /// disposed leaves its buffers behind on a long-lived backend, one set per round.
    /// </summary>
    [TestCase(PipelineMethod.Rloo, 1)]
    [TestCase(PipelineMethod.Dpo, 2)]
    [TestCase(PipelineMethod.RejectionSampling, 2)]
    public void ARoundLeavesNoDeviceBufferBehind(PipelineMethod method, int ensemble)
    {
        var o = new PipelineOptions
        {
            Model = "byte-tiny", MaxOperand = 10, SftSteps = 4, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
            AnnotatorTieMargin = 0, RewardSteps = 2, RewardBatch = 4, RewardEnsemble = ensemble,
            EvalPrompts = 8, ShiftEvalPrompts = 8, Method = method, OutDir = _dir, Threads = 2,
        };
        o = method == PipelineMethod.RejectionSampling ? o with { SftSteps = 40, RejectionSteps = 2, RejectionPrompts = 8, BestOfN = 2 } : o with { PolicySteps = 2, PromptsPerStep = 4 };
        using var be = new CpuBackend(2);
        long before = be.LiveBuffers;
        var (rounds, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds, Has.Count.EqualTo(2), "SFT and one round ran");
        Assert.That(double.IsFinite(rounds[1].RewardModelScore), "the evaluation scored samples with the reward model");
        Assert.That(be.LiveBuffers, Is.EqualTo(before), "device buffers still allocated after the round");
    }
}
