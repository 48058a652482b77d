using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tensors;
using RlhfCore.Tests.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Rl;

/// <summary>Rollout collection and reward-model scoring on tiny models.</summary>
public class RolloutTests
{
    private static readonly GptConfig Config = new(VocabSize: 13, MaxSeqLen: 11, NumLayers: 2, NumHeads: 2, Channels: 10);

    [Test]
    public void CollectorScoresWhatTheGeneratorSampled()
    {
        using var be = new CpuBackend(2);
        using var policy = new GptModel(be, Config, ModelHeads.Value);
        TinyModels.RandomizeParameters(policy, 31, scale: 0.6f);
        using var reference = new GptModel(be, Config);
        RlTestKit.CopyShared(policy, reference);
        var tok = new LetterTokenizer(13);
        string[] prompts = ["ab", "c", "defg", "c"];
        const float temperature = 0.8f;
        const int maxNew = 5;
        using var acts = new GptActivations(be, Config, 2, 4 + maxNew);
        using var collector = new RolloutCollector(policy, reference, tok, acts, 4, 4, maxNew, temperature, stopAtEos: true);
        var r = collector.Collect(prompts, new Rng(77));

        // The same draw through a plain generator, keeping each step's logits.
        using var gen = new GptGenerator(policy, 4, 4);
        var stepLogits = new List<float[]>();
        var seqs = gen.Generate(prompts.Select(tok.Encode).ToArray(), new SamplingOptions(maxNew, temperature, EosToken: tok.EndOfText), new Rng(77),
            (_, logits) => { var h = new float[4 * 13]; be.Download<float>(logits, h); stepLogits.Add(h); });
        for (int b = 0; b < 4; b++)
        {
            Assert.That(r.ResponseLengths[b], Is.EqualTo(seqs[b].Tokens.Length));
            Assert.That(r.StoppedAtEos[b], Is.EqualTo(seqs[b].StoppedAtEos));
            Assert.That(r.ResponseTexts[b], Is.EqualTo(tok.Decode(seqs[b].StoppedAtEos ? seqs[b].Tokens[..^1] : seqs[b].Tokens)));
            Assert.That(r.ResponseTexts[b], Does.Not.Contain("#"));
            for (int j = 0; j < seqs[b].Tokens.Length; j++)
            {
                int n = b * r.T + r.PromptLengths[b] - 1 + j;
                Assert.That(r.Mask[n], Is.EqualTo(1));
                Assert.That(r.Actions[n], Is.EqualTo(seqs[b].Tokens[j]));
                var row = stepLogits[j].AsSpan(b * 13, 13).ToArray().Select(x => (double)x / temperature).ToArray();
                double expected = Reference.PpoLossReference.LogSoftmax(row)[seqs[b].Tokens[j]];
                Assert.That(r.Logp[n], Is.EqualTo(expected).Within(1e-4), $"sequence {b} token {j}: full forward vs KV-cache decode");
                Assert.That(r.RefLogp[n], Is.EqualTo(r.Logp[n]), "a copy of the policy as reference gives the same log-probabilities");
                Assert.That(r.Values[n], Is.Not.Zero);
            }
        }
        for (int n = 0; n < r.Mask.Length; n++)
            if (r.Mask[n] == 0) Assert.That(r.Logp[n] == 0 && r.RefLogp[n] == 0 && r.Values[n] == 0, $"padding row {n}");
    }

    [Test]
    public void RewardModelScoresDoNotDependOnBatchingAndKeepTheLastTokens()
    {
        using var be = new CpuBackend(2);
        using var rm = new GptModel(be, Config, ModelHeads.Reward);
        TinyModels.RandomizeParameters(rm, 32);
        var tok = new LetterTokenizer(13);
        string[] prompts = ["ab", "c", "defg", "a", "bb"];
        string[] responses = ["cd", "e#", "h", "abcdefghij", "k"];
        using var batched = new RewardModelScorer(rm, tok, batch: 2, maxTokens: 6);
        using var single = new RewardModelScorer(rm, tok, batch: 1, maxTokens: 6);
        var scores = batched.Score(prompts, responses);
        for (int i = 0; i < prompts.Length; i++)
            Assert.That(scores[i], Is.EqualTo(single.Score([prompts[i]], [responses[i]])[0]).Within(1e-5), $"pair {i}");
        // "a" + "abcdefghij" is 11 tokens: the scorer keeps the last 6, "fghij" preceded by "e".
        Assert.That(scores[3], Is.EqualTo(single.Score(["efghij"], [""])[0]).Within(1e-5));
        Assert.That(scores.Distinct().Count(), Is.EqualTo(5));
    }

    [Test]
    public void ValueHeadCanStartFromTheRewardHead()
    {
        using var be = new CpuBackend(1);
        using var rm = new GptModel(be, Config, ModelHeads.Reward);
        TinyModels.RandomizeParameters(rm, 33);
        using var policy = new GptModel(be, Config, ModelHeads.Value);
        TinyModels.RandomizeParameters(policy, 34);
        ValueHead.CopyFromRewardHead(policy, rm);
        float[] w = new float[10], v = new float[10], bias = new float[1];
        be.Download<float>(rm.Parameters[GptParameters.RewardWeight], w);
        be.Download<float>(policy.Parameters[GptParameters.ValueWeight], v);
        be.Download<float>(policy.Parameters[GptParameters.ValueBias], bias);
        Assert.That(v, Is.EqualTo(w));
        Assert.That(bias[0], Is.Zero);
    }
}
