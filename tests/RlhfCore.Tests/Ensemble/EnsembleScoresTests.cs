using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Training.Pipeline;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Tests.Ensemble;

/// <summary>
/// The ensemble's per-sample statistics against a decimal-precision reference on random scores of odd
/// sizes, the scorer against each member scored alone, the aggregates, and the bad-input errors.
/// </summary>
public class EnsembleScoresTests
{
    [TestCase(1, 7)]
    [TestCase(4, 97)]
    [TestCase(5, 1025)]
    public void Statistics_MatchAHighPrecisionReference(int k, int n)
    {
        var rng = new Random(k * 1000 + n);
        // Large common offsets make the naive Σs² − K·mean² form lose every digit; the reference is exact decimal arithmetic.
        var members = Enumerable.Range(0, k).Select(_ => Enumerable.Range(0, n).Select(_ => 1e4 + rng.NextDouble() * 3 - 1.5).Select(v => (double)(float)v).ToArray()).ToList();
        var s = new EnsembleScores(members);
        for (int i = 0; i < n; i++)
        {
            decimal sum = 0;
            foreach (var m in members) sum += (decimal)m[i];
            decimal mean = sum / k, sq = 0;
            foreach (var m in members) sq += ((decimal)m[i] - mean) * ((decimal)m[i] - mean);
            double std = Math.Sqrt((double)(sq / k));
            Assert.That(s.Mean[i], Is.EqualTo((double)mean).Within(1e-9), $"mean of sample {i}");
            Assert.That(s.Std[i], Is.EqualTo(std).Within(1e-9), $"std of sample {i}");
            Assert.That(s.Min[i], Is.EqualTo(members.Min(m => m[i])), $"min of sample {i}");
        }
        Assert.That(s.MeanDisagreement, Is.EqualTo(s.Std.Average()).Within(1e-12));
    }

    [Test]
    public void Aggregates_AreMeanMinAndMeanMinusLambdaStd()
    {
        var s = new EnsembleScores([[1.0, 4.0], [3.0, 4.0], [2.0, 1.0]]);
        Assert.That(new RewardAggregation(RewardAggregate.Mean).Apply(s), Is.EqualTo(new[] { 2.0, 3.0 }));
        Assert.That(new RewardAggregation(RewardAggregate.Min).Apply(s), Is.EqualTo(new[] { 1.0, 1.0 }));
        var meanStd = new RewardAggregation(RewardAggregate.MeanStd, 0.5).Apply(s);
        Assert.That(meanStd[0], Is.EqualTo(2 - 0.5 * Math.Sqrt(2.0 / 3)).Within(1e-12));
        Assert.That(meanStd[1], Is.EqualTo(3 - 0.5 * Math.Sqrt(2.0)).Within(1e-12));
    }

    [Test]
    public void Scorer_GivesEachMemberItsOwnScores_AndIdenticalMembersDoNotDisagree()
    {
        var config = new GptConfig(13, 8, 1, 2, 16);
        using var be = new CpuBackend(1);
        var models = new List<GptModel>();
        try
        {
            foreach (ulong seed in new ulong[] { 3, 4, 3 })
            {
                var m = new GptModel(be, config, ModelHeads.Reward);
                m.InitializeWeights(seed);
                models.Add(m);
            }
            int[][] seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9], [2, 2]];
            using var ensemble = new EnsembleScorer(models, 3, 8);
            var s = ensemble.Score(seqs);
            for (int k = 0; k < models.Count; k++)
            {
                using var single = new RewardScorer(models[k], 3, 8);
                Assert.That(s.Members[k], Is.EqualTo(single.Score(seqs).Select(x => (double)x).ToArray()), $"member {k}");
            }
            Assert.That(s.Members[0], Is.Not.EqualTo(s.Members[1]), "different seeds score differently");
            using var twins = new EnsembleScorer([models[0], models[2]], 4, 8);
            Assert.That(twins.Score(seqs).Std, Is.All.EqualTo(0.0));
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    [Test]
    public void Bootstrap_DrawsWithReplacement_SeededAndFullLength()
    {
        var items = Enumerable.Range(0, 200).ToList();
        var a = Bootstrap.Resample(items, 7);
        Assert.That(a, Has.Count.EqualTo(200));
        Assert.That(a, Is.EqualTo(Bootstrap.Resample(items, 7)));
        Assert.That(a, Is.Not.EqualTo(Bootstrap.Resample(items, 8)));
        // About 1 − 1/e ≈ 63 % of the items appear at least once in a bootstrap resample.
        Assert.That(a.Distinct().Count(), Is.InRange(105, 150));
    }

    [Test]
    public void OneModelWithMinOrMeanStd_IsOneErrorNamingTheFlags()
    {
        foreach (var agg in new[] { RewardAggregate.Min, RewardAggregate.MeanStd })
        {
            var e = Assert.Throws<ArgumentException>(() => new PipelineOptions { RewardAggregate = agg, RewardEnsemble = 1 }.Validate())!;
            Assert.That(e.Message, Does.Contain($"--reward-aggregate {agg}").And.Contain("--reward-ensemble has 1"));
        }
        Assert.DoesNotThrow(() => new PipelineOptions { RewardAggregate = RewardAggregate.Min, RewardEnsemble = 2 }.Validate());
        var scorerError = Assert.Throws<ArgumentException>(() => new RewardAggregation(RewardAggregate.Min).ValidateFor(1, "--reward-model rm.safetensors"))!;
        Assert.That(scorerError.Message, Does.Contain("--reward-model rm.safetensors has 1"));
    }

    [Test]
    public void NegativeLambda_IsOneErrorNamingTheFlag()
    {
        Assert.That(Assert.Catch<ArgumentException>(() => new PipelineOptions { UncertaintyCoef = -0.1, RewardEnsemble = 2 }.Validate())!.Message, Does.Contain("--uncertainty-coef"));
        Assert.That(Assert.Catch<ArgumentException>(() => new RlhfCore.Training.Ppo.PpoOptions { UncertaintyCoef = -1 }.Validate())!.Message, Does.Contain("--uncertainty-coef"));
        Assert.That(Assert.Catch<ArgumentException>(() => new RlhfCore.Training.BestOfN.BestOfNOptions { Policy = "p", UncertaintyCoef = double.NaN }.Validate())!.Message, Does.Contain("--uncertainty-coef"));
    }

    [Test]
    public void FewerThanTwoCompletionsPerPrompt_IsOneErrorNamingTheFlag()
    {
        foreach (int k in new[] { 1, 0, -3 })
            Assert.That(Assert.Catch<ArgumentException>(() => new PipelineOptions { CompletionsPerPrompt = k }.Validate())!.Message,
                Does.StartWith($"--completions-per-prompt: {k} is below the minimum 2"));
        Assert.That(Assert.Throws<ArgumentException>(() => new PipelineOptions { CompletionsPerPrompt = 3, Labels = LabelSource.Human }.Validate())!.Message,
            Does.Contain("--labels Simulated"));
    }
}
