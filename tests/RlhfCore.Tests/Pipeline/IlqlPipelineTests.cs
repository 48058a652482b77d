using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// <c>--method Ilql</c> on a tiny model: a round labels its samples, trains ILQL, writes the policy and its heads, evaluates
/// with ILQL decoding, and a second run resumes without redoing any stage.
/// </summary>
public class IlqlPipelineTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-ilql-pipeline-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny(int rounds = 1) => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 40, Batch = 8, SeqLen = 16, Rounds = rounds, ComparisonsPerRound = 24,
        AnnotatorTieMargin = 0, RewardSteps = 6, RewardBatch = 4, RewardEnsemble = 1, PolicySteps = 3, PromptsPerStep = 4, EvalPrompts = 8, Method = PipelineMethod.Ilql,
        IlqlBeta = 50, OutDir = _dir, Threads = 2,
    };

    [Test]
    public void IlqlRoundWritesPolicyHeadsAndEvaluation_AndResumesWithoutRedoingAny()
    {
        var o = Tiny();
        using var be = new CpuBackend(2);
        long buffers = be.LiveBuffers;
        var (rounds, curve) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(be.LiveBuffers, Is.EqualTo(buffers), "device buffers still allocated after the round");
        Assert.That(rounds.Select(r => r.Round), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(curve, Is.Empty, "ILQL has no rollouts");
        Assert.That(double.IsFinite(rounds[1].SampledKl) && rounds[1].SampledKl > 0, $"KL to SFT on ILQL-decoded samples {rounds[1].SampledKl}");
        string[] artifacts =
        [
            "round-1/comparisons.jsonl", "round-1/reward/model.safetensors", "round-1/policy/ilql-ratings.jsonl", "round-1/policy/model.safetensors",
            "round-1/policy/" + IlqlHeadsFile.FileName, "round-1/policy/curve.json", "round-1/evaluation.json", "rounds.csv",
        ];
        foreach (var a in artifacts) Assert.That(File.Exists(Path.Combine(_dir, a)), $"{a} written");
        Assert.That(IlqlData.Read(Path.Combine(_dir, "round-1/policy/ilql-ratings.jsonl"), skipInvalid: true), Has.Count.GreaterThan(0), "the labelled samples read back as ratings");
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "round-1/policy/ilql-ratings.jsonl")), Has.Length.EqualTo(2 * o.ComparisonsPerRound), "both completions of every comparison");
        var ratings = IlqlData.Read(Path.Combine(_dir, "round-1/policy/ilql-ratings.jsonl"), skipInvalid: true).Select(e => e.Reward).ToArray();
        double mean = ratings.Average(), sd = Math.Sqrt(ratings.Average(x => (x - mean) * (x - mean)));
        Assert.That((mean, sd), Is.EqualTo((0.0, 1.0)).Using<(double, double)>((a, b) => Math.Abs(a.Item1 - b.Item1) < 0.35 && Math.Abs(a.Item2 - b.Item2) < 0.35),
            "the reward-model scores are standardized over the round's samples (empty completions, which the reader skips, aside)");

        // The round's greedy evaluation is the policy decoded with its heads at --ilql-beta.
        var task = GoldTasks.Create(o.Task, new ArithmeticTask(o.MaxOperand, o.DemoErrorRate));
        var prompts = GoldEvaluation.Prompts(task, o.EvalPrompts, o.Seed ^ 0xE7A1);
        using var policy = ModelFiles.Load(Path.Combine(_dir, "round-1/policy/model.safetensors"), be);
        using var heads = IlqlHeadsFile.Load(Path.Combine(_dir, "round-1/policy", IlqlHeadsFile.FileName), be, 50);
        var shaped = GoldEvaluation.Run(task, policy, ByteTokenizer.Instance, prompts, shaper: new IlqlLogitsShaper(be, heads, o.IlqlBeta));
        var plain = GoldEvaluation.Run(task, policy, ByteTokenizer.Instance, prompts);
        Assert.That(rounds[1].GoldGreedy, Is.EqualTo(shaped.MeanGold));
        TestContext.Out.WriteLine($"greedy gold: ILQL decoding {shaped.MeanGold}, plain {plain.MeanGold}; completions {string.Join(" | ", shaped.Completions)} vs {string.Join(" | ", plain.Completions)}");

        var stamps = artifacts.ToDictionary(a => a, a => File.GetLastWriteTimeUtc(Path.Combine(_dir, a)));
        var (again, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(again, Is.EqualTo(rounds), "a resumed run reports the same rounds");
        foreach (var (a, t) in stamps.Where(s => s.Key != "rounds.csv")) Assert.That(File.GetLastWriteTimeUtc(Path.Combine(_dir, a)), Is.EqualTo(t), $"{a} was not rewritten");
    }

    [Test]
    public void SecondRoundSamplesFromTheIlqlDecodedPolicy()
    {
        using var be = new CpuBackend(2);
        var (rounds, _) = new RlhfPipeline(Tiny(rounds: 2), be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds, Has.Count.EqualTo(3));
        Assert.That(File.Exists(Path.Combine(_dir, "round-2/policy", IlqlHeadsFile.FileName)));
    }
}
