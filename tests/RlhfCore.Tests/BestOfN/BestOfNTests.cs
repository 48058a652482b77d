using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using RlhfCore.Training.BestOfN;
using RlhfCore.Rl;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.BestOfN;

/// <summary>
/// Best-of-n: n = 1 draws exactly what plain sampling draws; the best of more samples never scores lower
/// (for each prefix of the same draws, and on average against single samples); the reward-model scorer scores
/// a row the same alone or padded in a batch; the rejection-sampling set is valid SFT data.
/// </summary>
public class BestOfNTests
{
    private static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 16, NumLayers: 1, NumHeads: 2, Channels: 16);
    private static readonly SamplingOptions Sampling = new(MaxNewTokens: 4, Temperature: 1, EosToken: ByteTokenizer.EndOfTextId);

    private static string[] Prompts(int count, ulong seed)
    {
        var task = new ArithmeticTask(MaxOperand: 10);
        var rng = new Rng(seed);
        return Enumerable.Range(0, count).Select(_ => task.SamplePrompt(rng)).ToArray();
    }

    private static GptModel Model(CpuBackend be, ModelHeads heads, ulong seed)
    {
        var m = new GptModel(be, Config, heads);
        m.InitializeWeights(seed);
        return m;
    }

    [Test]
    public void OneSampleEqualsPlainSampling()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, ModelHeads.None, 1);
        var prompts = Prompts(7, 2);
        using var sampler = new BestOfNSampler(policy, ByteTokenizer.Instance, FunctionReward.Arithmetic, maxBatch: 8, maxPromptTokens: 6);
        var best = sampler.Sample(prompts, 1, Sampling, new Rng(9));

        using var gen = new GptGenerator(policy, 8, 6);
        var plain = gen.Generate(prompts.Select(ByteTokenizer.Instance.Encode).ToArray(), Sampling, new Rng(9));
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.That(best.Prompts[i].Best.Tokens, Is.EqualTo(plain[i].Tokens), $"prompt {i}");
            Assert.That(best.Prompts[i].Best.StoppedAtEos, Is.EqualTo(plain[i].StoppedAtEos));
        }
        Assert.That(best.MeanBestScore, Is.EqualTo(best.MeanSampleScore));
    }

    [Test]
    public void MoreSamplesNeverLowerTheBestScore()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, ModelHeads.None, 1);
        using var rewardModel = Model(be, ModelHeads.Reward, 2);
        using var scorer = new RewardModelScorer(rewardModel, ByteTokenizer.Instance, batch: 16, maxTokens: 10);
        var prompts = Prompts(9, 3);
        using var sampler = new BestOfNSampler(policy, ByteTokenizer.Instance, scorer, maxBatch: 16, maxPromptTokens: 6);
        var result = sampler.Sample(prompts, 8, Sampling, new Rng(4));

        double previous = double.NegativeInfinity;
        foreach (int k in new[] { 1, 2, 4, 8 })
        {
            double mean = result.MeanBestOfFirst(k);
            Assert.That(mean, Is.GreaterThanOrEqualTo(previous), $"best-of-{k}");
            previous = mean;
        }
        foreach (var p in result.Prompts)
            Assert.That(p.BestScore, Is.EqualTo(p.Scores.Max()));
        Assert.That(result.MeanBestScore, Is.GreaterThan(result.MeanSampleScore), "with distinct scores, best-of-8 beats a single sample on average");
    }

    [Test]
    public void RewardScoreIsIndependentOfBatchingAndPadding()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, ModelHeads.None, 1);
        using var rewardModel = Model(be, ModelHeads.Reward, 2);
        using var batched = new RewardModelScorer(rewardModel, ByteTokenizer.Instance, batch: 16, maxTokens: Config.MaxSeqLen);
        using var sampler = new BestOfNSampler(policy, ByteTokenizer.Instance, batched, maxBatch: 16, maxPromptTokens: 6);
        var result = sampler.Sample(Prompts(5, 5), 3, Sampling, new Rng(6));
        foreach (var p in result.Prompts)
            for (int j = 0; j < p.Samples.Count; j++)
            {
                var c = p.Samples[j];
                // The scorer reads text as PPO does: prompt and completion re-encoded, end-of-text appended (as the reward model was trained).
                int length = ByteTokenizer.Instance.Encode(c.Prompt).Length + ByteTokenizer.Instance.Encode(c.Text).Length + 1;
                using var alone = new RewardModelScorer(rewardModel, ByteTokenizer.Instance, batch: 1, maxTokens: Math.Min(length, Config.MaxSeqLen));
                Assert.That(p.Scores[j], Is.EqualTo(alone.Score([c.Prompt], [c.Text])[0]).Within(1e-5));
            }
    }

    [Test]
    public void WritesRejectionSamplingSetForSft()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, ModelHeads.None, 1);
        var prompts = Prompts(6, 7);
        // A stand-in reward that prefers longer texts, so the kept completions are known.
        var scorer = new FunctionReward((_, text) => text.Length, "length");
        using var sampler = new BestOfNSampler(policy, ByteTokenizer.Instance, scorer, maxBatch: 12, maxPromptTokens: 6);
        var result = sampler.Sample(prompts, 4, Sampling, new Rng(8));
        using var dir = new TempDir();
        string path = dir.File("rs.jsonl");
        var winners = RejectionSamplingSet.Winners(result, ByteTokenizer.Instance, minScore: 2);
        RejectionSamplingSet.Write(path, winners);
        var records = SftDataset.Load(path);
        // An untrained byte model samples bytes that are not UTF-8; a best completion made of them is left out, not learned as U+FFFD.
        var scoring = result.Prompts.Where(p => p.BestScore >= 2).ToList();
        var kept = scoring.Where(p => ByteTokenizer.Instance.Encode(p.Best.Text).Length == p.Best.Tokens.Count(t => t != ByteTokenizer.Instance.EndOfText)).ToList();
        Assert.That(kept, Has.Count.LessThan(scoring.Count), "some best completion here is not text, so the filter is exercised");
        Assert.That(kept, Is.Not.Empty);
        Assert.That(records.Select(r => (r.Prompt, r.Completion)), Is.EqualTo(kept.Select(p => (p.Prompt, p.Best.Text))));
        Assert.That(records.All(r => !r.IsPlainText), Is.True);
        Assert.That(Directory.GetFiles(dir.Path), Has.Length.EqualTo(1), "no temporary file left behind");
    }

    [Test]
    public void ScorerWithoutRewardHeadIsAClearError()
    {
        using var be = new CpuBackend(2);
        using var policy = Model(be, ModelHeads.None, 1);
        Assert.That(Assert.Throws<ArgumentException>(() => new RewardModelScorer(policy, ByteTokenizer.Instance, 1, 8))!.Message, Does.Contain("no reward head"));
    }
}
