using System.Text.Json;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Model;
using RlhfCore.Training.Pipeline;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// K-wise rounds with a reward-model ensemble on a tiny model: every file is written, a rerun resumes
/// without rewriting any, diagnostics and per-step reward metrics exist; an empty completion is scored;
/// and several seeds run into their own folders with one table.
/// </summary>
public class KwisePipelineTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-kwise-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny() => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 30, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 12,
        AnnotatorTieMargin = 0, RewardSteps = 4, RewardBatch = 4, Method = PipelineMethod.Rloo, PolicySteps = 2, PromptsPerStep = 4, EvalPrompts = 6, ShiftEvalPrompts = 6,
        OutDir = _dir, Threads = 2,
    };

    [TestCase(RankingLoss.PlackettLuce, EnsembleTrunk.Own)]
    [TestCase(RankingLoss.Pairs, EnsembleTrunk.Shared)]
    public void KwiseRoundWithAnEnsemble_WritesItsFilesAndResumes(RankingLoss loss, EnsembleTrunk trunk)
    {
        var o = Tiny() with { CompletionsPerPrompt = 3, RankingLoss = loss, RewardEnsemble = 2, RewardEnsembleTrunk = trunk, RewardAggregate = RewardAggregate.MeanStd, UncertaintyCoef = 0.5 };
        using var be = new CpuBackend(2);
        var (rounds, curve) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        string[] artifacts =
        [
            "round-1/comparisons.jsonl", "round-1/rankings.jsonl", "round-1/reward/ensemble.json", "round-1/reward/member-0/model.safetensors",
            "round-1/reward/member-1/model.safetensors", "round-1/reward/member-0/metrics.jsonl",
            "round-1/reward/reward.json", "round-1/reward/reliability.svg", "round-1/shift.json", "round-1/policy/model.safetensors",
            "round-1/evaluation.json", "rounds.csv", "curve.csv", "overoptimization.svg", "rounds.svg",
        ];
        foreach (var a in artifacts) Assert.That(File.Exists(Path.Combine(_dir, a)), $"{a} written");
        Assert.That(File.Exists(Path.Combine(_dir, "round-1/pairs.jsonl")), Is.False, "K-wise rounds write rankings, not pairs");
        var items = RankingFiles.ReadItems(Path.Combine(_dir, "round-1/comparisons.jsonl"), 3);
        Assert.That(items, Has.Count.EqualTo(o.ComparisonsPerRound));
        var rankings = RankingFiles.ReadRankings(Path.Combine(_dir, "round-1/rankings.jsonl"));
        int expected = loss == RankingLoss.Pairs ? rankings.Sum(r => r.ToPairs().Count) : rankings.Count(r => r.Groups >= 2);
        Assert.That(rounds[1].Pairs, Is.EqualTo(expected), "feedback records per the ranking loss");
        Assert.That(File.ReadLines(Path.Combine(_dir, "round-1/reward/member-0/metrics.jsonl")).Count(), Is.EqualTo(o.RewardSteps), "one metrics row per reward step");
        Assert.That(rounds[1].RewardModelAccuracy, Is.InRange(0.0, 1.0));
        Assert.That(rounds[1].RewardModelEce, Is.InRange(0.0, 1.0));
        Assert.That(rounds[1].Disagreement, Is.GreaterThan(0), "two members from different seeds and resamples disagree");
        Assert.That(curve.All(c => c.Disagreement > 0), "RL logs the ensemble's disagreement on rollouts");
        var manifest = EnsembleManifest.Read(Path.Combine(_dir, "round-1/reward"));
        Assert.That(manifest.Members.Select(m => m.Seed).Distinct().Count(), Is.EqualTo(2));
        Assert.That(manifest.SharedTrunk, Is.EqualTo(trunk == EnsembleTrunk.Shared));
        Assert.That(File.Exists(Path.Combine(_dir, "round-1/reward/member-1/metrics.csv")), Is.EqualTo(trunk == EnsembleTrunk.Own), "a shared-trunk member is a fitted head, not a training run");
        Assert.That(File.ReadAllLines(Path.Combine(_dir, "rounds.csv"))[0], Does.Contain("reward_model_shift_accuracy").And.Contain("reward_model_ece"));

        var stamps = Directory.EnumerateFiles(Path.Combine(_dir, "round-1"), "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var (again, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(again, Is.EqualTo(rounds).Using<RoundSummary>((a, b) => JsonSerializer.Serialize(a, Json) == JsonSerializer.Serialize(b, Json)));
        foreach (var (f, t) in stamps) Assert.That(File.GetLastWriteTimeUtc(f), Is.EqualTo(t), $"{f} was not rewritten");
    }

    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    [Test]
    public void AnEmptyCompletion_GetsAScore_AsPromptPlusEos()
    {
        var tok = ByteTokenizer.Instance;
        var pair = new PreferencePair("3+4=", "7", "");
        var error = Assert.Throws<DataFormatException>(() => RewardExamples.Tokenize([pair], tok, 16, PromptOverflow.Error, true, 260))!;
        Assert.That(error.Message, Does.Contain("rejected").And.Contain("empty"), "outside the pipeline an empty completion is still an error");
        var ex = RewardExamples.Tokenize([pair], tok, 16, PromptOverflow.Error, true, 260, allowEmptyCompletions: true).Single();
        Assert.That(ex.Sequences[1], Is.EqualTo(tok.Encode("3+4=").Append(tok.EndOfText).ToArray()));

        using var be = new CpuBackend(1);
        using var model = new GptModel(be, GptConfig.Preset("byte-tiny"), ModelHeads.Reward);
        model.InitializeWeights(3);
        using var scorer = new RewardScorer(model, 2, 16);
        var scores = scorer.Score(ex.Sequences);
        Assert.That(scores, Has.All.Matches<float>(float.IsFinite));
        using var trainer = new RewardTrainer(model, [ex, ex, ex], null, new RewardOptions { Batch = 2, Steps = 2, Warmup = 0, AllowEmptyCompletions = true });
        Assert.DoesNotThrow(() => trainer.Run(CancellationToken.None));
        Assert.That(Assert.Throws<ArgumentException>(() => new RewardOptions { AllowEmptyCompletions = true, AppendEos = false }.Validate())!.Message,
            Does.Contain("--append-eos"));
    }

    [Test]
    public void SeveralSeeds_RunInTheirOwnFolders_IntoOneTable()
    {
        var o = Tiny() with { Seeds = "3-4", ShiftEvalPrompts = 0 };
        using var be = new CpuBackend(2);
        var logged = new List<string>();
        var results = MultiSeedRunner.Run(o, be, logged.Add, CancellationToken.None);
        Assert.That(results.Select(r => r.Seed), Is.EqualTo(new ulong[] { 3, 4 }));
        foreach (var r in results)
        {
            string rounds = Path.Combine(_dir, $"seed-{r.Seed}", "rounds.csv");
            Assert.That(File.Exists(rounds), rounds);
            var last = File.ReadAllLines(rounds)[^1].Split(',');
            Assert.That(double.Parse(last[1], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(r.RlhfGreedy), "the table reads the seed's own report");
            Assert.That(r.Minutes, Is.GreaterThan(0));
            Assert.That(r.CpuMinutes, Is.GreaterThan(0), "the process's CPU time over the seed");
        }
        Assert.That(results[0].SftGreedy, Is.Not.EqualTo(results[1].SftGreedy).Or.Not.EqualTo(results[1].SftSampled).Or.Not.EqualTo(results[1].RlhfSampled), "different seeds, different runs");
        var csv = File.ReadAllLines(Path.Combine(_dir, "seeds.csv"));
        Assert.That(csv, Has.Length.EqualTo(3));
        Assert.That(csv[0], Is.EqualTo("seed,sft_greedy,sft_sampled,rlhf_greedy,rlhf_sampled,reward_model_accuracy,kl,minutes,cpu_minutes,rlhf_wins"));
        Assert.That(logged, Has.Some.StartsWith("seed 4: "));
    }

    [Test]
    public void SeedLists_ParseRangesAndLists_AndNameTheFlagOnBadInput()
    {
        Assert.That(new PipelineOptions { Seeds = "1-3, 7,9-9" }.SeedList(), Is.EqualTo(new ulong[] { 1, 2, 3, 7, 9 }));
        Assert.That(new PipelineOptions { Seed = 42 }.SeedList(), Is.EqualTo(new ulong[] { 42 }));
        foreach (var bad in new[] { "5-1", "x", "1-2-3", "1,,2" })
            Assert.That(Assert.Throws<ArgumentException>(() => new PipelineOptions { Seeds = bad }.Validate())!.Message, Does.StartWith("--seeds"), bad);
    }
}
