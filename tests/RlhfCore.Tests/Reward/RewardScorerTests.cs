using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tests.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>The batched scorer reads each sequence at its last token, independent of its batch mates.</summary>
public class RewardScorerTests
{
    private static int[] Tokens(Random rng, int n) => Enumerable.Range(0, n).Select(_ => rng.Next(TinyModels.Config.VocabSize)).ToArray();

    [Test]
    public void BatchedScoresEqualScoresAloneAndReadTheLastToken()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config, ModelHeads.Reward);
        TinyModels.RandomizeParameters(model, 3);
        var rng = new Random(4);
        var seqs = Enumerable.Range(0, 7).Select(i => Tokens(rng, 1 + i % 9)).ToArray();
        using var batched = new RewardScorer(model, 3, 9);
        using var single = new RewardScorer(model, 1, 9);
        var all = batched.Score(seqs);
        for (int i = 0; i < seqs.Length; i++)
            Assert.That(all[i], Is.EqualTo(single.Score([seqs[i]])[0]).Within(1e-5f), $"sequence {i}");
        // Appending a token changes the score (it is read at the new last token).
        Assert.That(single.Score([[.. seqs[6], 1]])[0], Is.Not.EqualTo(all[6]));
    }

    [Test]
    public void PromptAndCompletionAreConcatenatedAndTooLongOnesKeepTheirEnd()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config, ModelHeads.Reward);
        TinyModels.RandomizeParameters(model, 5);
        using var scorer = new RewardScorer(model, 4, 6);
        int[] prompt = [1, 2, 3, 4], completion = [5, 6, 7];
        var joined = scorer.Score([prompt], [completion])[0];
        Assert.That(joined, Is.EqualTo(scorer.Score([[2, 3, 4, 5, 6, 7]])[0]), "a 7-token sequence keeps its last 6 tokens");
        Assert.Throws<ArgumentException>(() => scorer.Score([[]]));
    }
}
