using RlhfCore.Backends.Cpu;
using RlhfCore.Feedback;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using RlhfCore.Tests.Rl;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Tests.Ensemble;

/// <summary>
/// The shared-trunk ensemble: one trunk pass scores every head exactly as each member alone would, a fitted
/// head recovers a known direction, and a manifest that claims a shared trunk it does not have is refused.
/// </summary>
public class SharedTrunkTests
{
    private static readonly GptConfig Config = new(13, 8, 1, 2, 16);

    private static List<GptModel> SameTrunkDifferentHeads(CpuBackend be, int k)
    {
        var models = new List<GptModel>();
        for (int i = 0; i < k; i++)
        {
            var m = new GptModel(be, Config, ModelHeads.Reward);
            m.InitializeWeights(7);
            var rng = new Random(i);
            LinearHeads.SetHead(m, Enumerable.Range(0, Config.Channels).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray());
            models.Add(m);
        }
        return models;
    }

    [Test]
    public void OneTrunkPass_ScoresEveryHeadAsEachMemberAlone()
    {
        using var be = new CpuBackend(1);
        var models = SameTrunkDifferentHeads(be, 3);
        try
        {
            int[][] seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 9, 10, 11], [2, 2], [12, 0, 3]];
            using var shared = new EnsembleScorer(models, 2, 8, sharedTrunk: true);
            using var own = new EnsembleScorer(models, 2, 8);
            var a = shared.Score(seqs);
            var b = own.Score(seqs);
            for (int k = 0; k < models.Count; k++)
                for (int i = 0; i < seqs.Length; i++)
                    Assert.That(a.Members[k][i], Is.EqualTo(b.Members[k][i]).Within(1e-5 * (1 + Math.Abs(b.Members[k][i]))), $"member {k}, sequence {i}");
            Assert.That(a.Std, Has.Some.GreaterThan(0.01), "different heads disagree");
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    [Test]
    public void FittedHead_RecoversAKnownDirection()
    {
        const int C = 24, pairs = 3000;
        var rng = new Random(5);
        var truth = Enumerable.Range(0, C).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var examples = new List<RewardExample>();
        var features = new List<float[]>();
        for (int p = 0; p < pairs; p++)
        {
            var x = Enumerable.Range(0, C).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var y = Enumerable.Range(0, C).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            double d = Enumerable.Range(0, C).Sum(c => truth[c] * (x[c] - y[c]));
            bool xWins = rng.NextDouble() < 1 / (1 + Math.Exp(-2 * d));
            features.Add(xWins ? x : y);
            features.Add(xWins ? y : x);
            examples.Add(RewardExample.Pair([1], [2]));
        }
        var (w, loss) = LinearHeads.Fit(examples, features, seed: 3);
        double dot = Enumerable.Range(0, C).Sum(c => w[c] * truth[c]);
        double cos = dot / Math.Sqrt(w.Sum(v => (double)v * v) * truth.Sum(v => v * v));
        Assert.That(cos, Is.GreaterThan(0.97), $"cosine {cos:F3}");
        Assert.That(loss, Is.LessThan(Math.Log(2)), "better than chance");
        Assert.That(LinearHeads.Fit(examples, features, seed: 4).Weight, Is.Not.EqualTo(w), "its own seed starts it elsewhere");
    }

    [Test]
    public void AManifestClaimingASharedTrunk_IsCheckedAtLoad()
    {
        using var be = new CpuBackend(1);
        using var dir = new TempDir();
        var models = SameTrunkDifferentHeads(be, 2);
        try
        {
            for (int k = 0; k < 2; k++)
            {
                Directory.CreateDirectory(dir.File($"member-{k}"));
                Gpt2Checkpoint.Save(dir.File($"member-{k}/model.safetensors"), models[k].Config, models[k].Heads, models[k].Parameters);
            }
            var manifest = new EnsembleManifest([new("member-0/model.safetensors", 1, 1, 1), new("member-1/model.safetensors", 2, 2, 1)], "fresh", SharedTrunk: true);
            manifest.Write(dir.Path);
            using (var ok = RewardEnsemble.Load(dir.Path, be)) Assert.That(ok.SharedTrunk);

            var other = new GptModel(be, Config, ModelHeads.Reward);
            other.InitializeWeights(8);
            Gpt2Checkpoint.Save(dir.File("member-1/model.safetensors"), other.Config, other.Heads, other.Parameters);
            other.Dispose();
            var e = Assert.Throws<ArgumentException>(() => RewardEnsemble.Load(dir.Path, be))!;
            Assert.That(e.Message, Does.Contain("member 1's trunk differs"));
        }
        finally
        {
            foreach (var m in models) m.Dispose();
        }
    }

    [Test]
    public void MOutOfNBootstrap_IsThePrefixOfTheFullResample()
    {
        var items = Enumerable.Range(0, 50).ToList();
        Assert.That(Bootstrap.Resample(items, 9, 20), Is.EqualTo(Bootstrap.Resample(items, 9).Take(20)));
        Assert.That(Bootstrap.Resample(items, 9, 80), Has.Count.EqualTo(80));
    }
}
