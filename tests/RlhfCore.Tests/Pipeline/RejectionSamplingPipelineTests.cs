using System.Text.Json;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Pipeline;

namespace RlhfCore.Tests.Pipeline;

/// <summary>
/// <c>--method RejectionSampling</c>: a round writes the reward model's best of n per prompt, fine-tunes the previous
/// policy on exactly those winners, and resumes without redoing the stage.
/// </summary>
public class RejectionSamplingPipelineTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Path.Combine(Path.GetTempPath(), "rlhf-rs-pipeline-" + Guid.NewGuid().ToString("N"));

    [TearDown]
    public void TearDown()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private PipelineOptions Tiny() => new()
    {
        Model = "byte-tiny", MaxOperand = 10, SftSteps = 40, Batch = 8, SeqLen = 16, Rounds = 1, ComparisonsPerRound = 24,
        AnnotatorTieMargin = 0, RewardSteps = 6, RewardBatch = 4, RejectionSteps = 20, RejectionLr = 3e-3f, EvalPrompts = 8,
        Method = PipelineMethod.RejectionSampling, BestOfN = 4, RejectionPrompts = 24, OutDir = _dir, Threads = 2,
    };

    private static List<(string Prompt, string Completion)> Winners(string path) =>
        File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (e.GetProperty("prompt").GetString()!, e.GetProperty("completion").GetString()!)).ToList();

    /// <summary>Mean log-probability the model at <paramref name="path"/> gives the completions (end-of-text included) after their prompts.</summary>
    private static double MeanLogProb(string path, IReadOnlyList<(string Prompt, string Completion)> pairs, CpuBackend be)
    {
        var tok = ByteTokenizer.Instance;
        using var model = ModelFiles.Load(path, be);
        var examples = pairs.Select(p => { int[] c = [.. tok.Encode(p.Completion), tok.EndOfText]; return new DpoExample(tok.Encode(p.Prompt), c, c); }).ToList();
        int T = examples.Max(e => e.InputLength(e.Chosen));
        var batch = new DpoBatch(examples.Count, T);
        batch.Fill(examples);
        using var logProbs = new SequenceLogProbs(be, model.Config, 2 * examples.Count, T);
        logProbs.Upload(batch);
        var lp = new double[2 * examples.Count];
        logProbs.Forward(model, lp);
        return lp.Take(examples.Count).Average();
    }

    [Test]
    public void ARoundFineTunesThePolicyOnTheRewardModelsBestOfNAndResumes()
    {
        var o = Tiny();
        using var be = new CpuBackend(2);
        var (rounds, curve) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(rounds.Select(r => r.Round), Is.EqualTo(new[] { 0, 1 }));
        Assert.That(curve, Is.Empty, "rejection sampling has no rollouts");
        Assert.That(double.IsFinite(rounds[1].SampledKl), "the round's KL to SFT is measured on evaluation samples");

        string winnersFile = Path.Combine(_dir, "round-1/policy/best-of-n.jsonl");
        var winners = Winners(winnersFile);
        Assert.That(winners, Has.Count.EqualTo(o.RejectionPrompts), "one winner per prompt");
        Assert.That(winners.Select(w => w.Prompt), Has.All.Matches<string>(p => p.EndsWith('=')), "the task's prompts");
        var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "round-1/policy/config.json"))).RootElement;
        Assert.That(config.GetProperty("Steps").GetInt32(), Is.EqualTo(o.RejectionSteps), "the stage's SFT settings are recorded");

        // Fine-tuning on the winners makes them more likely than they were under the policy that sampled them.
        double before = MeanLogProb(Path.Combine(_dir, "sft/model.safetensors"), winners, be);
        double after = MeanLogProb(Path.Combine(_dir, "round-1/policy/model.safetensors"), winners, be);
        Assert.That(after, Is.GreaterThan(before + 0.1), $"winners' mean log-probability {before:F3} → {after:F3}");

        var stamp = File.GetLastWriteTimeUtc(winnersFile);
        var (again, _) = new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        Assert.That(again, Is.EqualTo(rounds), "a resumed run reports the same rounds");
        Assert.That(File.GetLastWriteTimeUtc(winnersFile), Is.EqualTo(stamp), "the finished stage was not redone");
    }

    [Test]
    public void WithTheGoldRewardEveryPromptWithACorrectSampleKeepsACorrectWinner()
    {
        // The oracle scores with the gold reward, so a winner is wrong only when all n samples of its prompt were.
        // At n = 64 from an SFT policy that answers right about a third of the time, that happens to almost no prompt.
        var o = Tiny() with { OptimizeGold = true, BestOfN = 64, SftSteps = 200 };
        using var be = new CpuBackend(2);
        new RlhfPipeline(o, be, _ => { }).Run(CancellationToken.None);
        var winners = Winners(Path.Combine(_dir, "round-1/policy/best-of-n.jsonl"));
        double gold = winners.Average(w => RlhfCore.Data.Tasks.ArithmeticTask.GoldReward(w.Prompt, w.Completion));
        Assert.That(gold, Is.GreaterThan(0.9), $"gold accuracy of the oracle's winners: {gold:P1}");
    }

    [TestCase(nameof(PipelineOptions.BestOfN), "--best-of-n")]
    [TestCase(nameof(PipelineOptions.RejectionPrompts), "--rejection-prompts")]
    [TestCase(nameof(PipelineOptions.RejectionSteps), "--rejection-steps")]
    [TestCase(nameof(PipelineOptions.RejectionLr), "--rejection-lr")]
    public void ItsSettingsWithAnotherMethodAreAnError(string property, string flag)
    {
        var o = Tiny() with { Method = PipelineMethod.Rloo, BestOfN = 8, RejectionPrompts = 2048, RejectionSteps = 200, RejectionLr = 1e-3f };
        Assert.DoesNotThrow(() => o.Validate(), "at their defaults they are not an error");
        o = property switch
        {
            nameof(PipelineOptions.BestOfN) => o with { BestOfN = 3 },
            nameof(PipelineOptions.RejectionPrompts) => o with { RejectionPrompts = 5 },
            nameof(PipelineOptions.RejectionSteps) => o with { RejectionSteps = 7 },
            _ => o with { RejectionLr = 1e-4f },
        };
        var e = Assert.Throws<ArgumentException>(() => o.Validate())!;
        Assert.That(e.Message, Does.StartWith(flag).And.Contain("RejectionSampling"));
    }

    [TestCase(nameof(PipelineOptions.PolicySteps), "--policy-steps")]
    [TestCase(nameof(PipelineOptions.PolicyLr), "--policy-lr")]
    [TestCase(nameof(PipelineOptions.KlCoef), "--kl-coef")]
    [TestCase(nameof(PipelineOptions.PromptsPerStep), "--prompts-per-step")]
    public void TheRlStagesSettingsWithItAreAnError(string property, string flag)
    {
        var o = Tiny();
        Assert.DoesNotThrow(() => o.Validate());
        o = property switch
        {
            nameof(PipelineOptions.PolicySteps) => o with { PolicySteps = 7 },
            nameof(PipelineOptions.PolicyLr) => o with { PolicyLr = 1e-4f },
            nameof(PipelineOptions.KlCoef) => o with { KlCoef = 0.5 },
            _ => o with { PromptsPerStep = 5 },
        };
        var e = Assert.Throws<ArgumentException>(() => o.Validate())!;
        Assert.That(e.Message, Does.StartWith(flag).And.Contain("--rejection-steps"));
    }
}
