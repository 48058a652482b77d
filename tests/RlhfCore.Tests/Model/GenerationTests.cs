using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.Model;

/// <summary>
/// KV-cache generation must compute exactly what a full forward pass over the same left-padded
/// sequence computes, at every step and for rows of different prompt lengths.
/// </summary>
public class GenerationTests
{
    [TestCase(0f, 0, 1f)]
    [TestCase(1f, 5, 0.9f)]
    public void CachedLogitsEqualFullRecomputation(float temperature, int topK, float topP)
    {
        using var be = new CpuBackend(2);
        var cfg = TinyModels.Config;
        using var model = new GptModel(be, cfg);
        TinyModels.RandomizeParameters(model, seed: 21);
        int[][] prompts = [[1, 2, 3, 4], [5], [6, 7]];
        int B = prompts.Length, P = 4, steps = 6;
        var stepLogits = new List<float[]>();
        using var gen = new GptGenerator(model, maxBatch: 4, maxPrompt: 5);
        var outputs = gen.Generate(prompts, new SamplingOptions(MaxNewTokens: steps, Temperature: temperature, TopK: topK, TopP: topP),
            new Rng(7), (step, logits) =>
            {
                var host = new float[logits.Length];
                be.Download<float>(logits, host);
                stepLogits.Add(host);
            });
        Assert.That(outputs.All(o => o.Tokens.Length == steps), "no EOS given, so every row runs all steps");

        // Full recomputation over [left-padded prompt | generated tokens].
        int T = P + steps;
        using var acts = new GptActivations(be, cfg, B, T);
        var tokens = new int[B * T]; var positions = new int[B * T]; var mask = new int[B * T];
        for (int b = 0; b < B; b++)
        {
            int pad = P - prompts[b].Length;
            var seq = prompts[b].Concat(outputs[b].Tokens).ToArray();
            for (int t = 0; t < T; t++)
            {
                bool real = t >= pad;
                tokens[b * T + t] = real ? seq[t - pad] : 0;
                positions[b * T + t] = real ? t - pad : 0;
                mask[b * T + t] = real ? 1 : 0;
            }
        }
        be.Upload<int>(acts.Tokens, tokens); be.Upload<int>(acts.Positions, positions); be.Upload<int>(acts.KeyMask, mask);
        model.Forward(acts, B, T);
        var full = new float[acts.Logits.Length];
        be.Download<float>(acts.Logits, full);
        int V = cfg.VocabSize;
        Assert.That(stepLogits.Count, Is.EqualTo(steps));
        for (int s = 0; s < steps; s++)
            for (int b = 0; b < B; b++)
                for (int v = 0; v < V; v++)
                {
                    float want = full[(b * T + P - 1 + s) * V + v], got = stepLogits[s][b * V + v];
                    Assert.That(Math.Abs(got - want), Is.LessThanOrEqualTo(1e-5f + 1e-4f * Math.Abs(want)), $"step {s} row {b} token {v}");
                }
    }

    [Test]
    public void GreedyIsDeterministicAndStopsAtEos()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(model, seed: 22, scale: 1.5f);
        using var gen = new GptGenerator(model, 2, 3);
        var first = gen.Generate([[1, 2], [3]], new SamplingOptions(MaxNewTokens: 8, Temperature: 0f), new Rng(1));
        var again = gen.Generate([[1, 2], [3]], new SamplingOptions(MaxNewTokens: 8, Temperature: 0f), new Rng(99));
        Assert.That(again[0].Tokens, Is.EqualTo(first[0].Tokens), "greedy ignores the random stream");
        int eos = first[0].Tokens[2];
        var stopped = gen.Generate([[1, 2]], new SamplingOptions(MaxNewTokens: 8, Temperature: 0f, EosToken: eos), new Rng(1));
        int cut = Array.IndexOf(first[0].Tokens, eos);
        Assert.That(stopped[0].Tokens, Is.EqualTo(first[0].Tokens[..(cut + 1)]));
        Assert.That(stopped[0].StoppedAtEos, Is.True);
    }

    [Test]
    public void SampledRunsRepeatWithTheSameSeed()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(model, seed: 23, scale: 1.5f);
        using var gen = new GptGenerator(model, 3, 3);
        var opts = new SamplingOptions(MaxNewTokens: 7, Temperature: 1.3f, TopP: 0.95f);
        var a = gen.Generate([[1], [2, 3], [4]], opts, new Rng(5));
        var b = gen.Generate([[1], [2, 3], [4]], opts, new Rng(5));
        var c = gen.Generate([[1], [2, 3], [4]], opts, new Rng(6));
        for (int r = 0; r < 3; r++) Assert.That(b[r].Tokens, Is.EqualTo(a[r].Tokens));
        Assert.That(Enumerable.Range(0, 3).Any(r => !c[r].Tokens.SequenceEqual(a[r].Tokens)), "another seed draws other tokens");
    }

    [Test]
    public void RejectsPromptsOutsideVocabularyOrContext()
    {
        using var be = new CpuBackend(1);
        using var model = new GptModel(be, TinyModels.Config);
        using var gen = new GptGenerator(model, 2, 5);
        var opts = new SamplingOptions(MaxNewTokens: 3);
        Assert.That(() => gen.Generate([[1, 99]], opts, new Rng(1)), Throws.ArgumentException.With.Message.Contains("token id 99"));
        Assert.That(() => gen.Generate([[1, 2, 3, 4, 5, 6]], opts, new Rng(1)), Throws.ArgumentException.With.Message.Contains("longer"));
        Assert.That(() => gen.Generate([[]], opts, new Rng(1)), Throws.ArgumentException.With.Message.Contains("empty"));
    }
}
