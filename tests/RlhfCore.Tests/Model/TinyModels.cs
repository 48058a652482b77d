using RlhfCore.Backends;
using RlhfCore.Model;

namespace RlhfCore.Tests.Model;

/// <summary>Small configs and helpers shared by the whole-model tests.</summary>
internal static class TinyModels
{
    /// <summary>Odd sizes on purpose: vocab 13, context 11, 2 layers, 2 heads of width 5.</summary>
    public static readonly GptConfig Config = new(VocabSize: 13, MaxSeqLen: 11, NumLayers: 2, NumHeads: 2, Channels: 10);

    /// <summary>Fills every parameter with values large enough that finite differences see real curvature.</summary>
    public static void RandomizeParameters(GptModel model, int seed, float scale = 0.4f)
    {
        var rng = new Random(seed);
        for (int i = 0; i < model.Table.Count; i++)
        {
            var spec = model.Table[i];
            var data = new float[spec.Length];
            bool gain = spec.Name.EndsWith("ln_1.weight") || spec.Name.EndsWith("ln_2.weight") || spec.Name == "ln_f.weight";
            for (int j = 0; j < data.Length; j++) data[j] = (gain ? 1f : 0f) + scale * (float)(rng.NextDouble() * 2 - 1);
            model.Backend.Upload<float>(model.Parameters.Tensors[i], data);
        }
    }

    /// <summary>
    /// Uploads a [B, T] batch with right padding: row b has lengths[b] real tokens; positions count real
    /// tokens; targets are the next token (−1 past the end); weights are 1/(number of real targets).
    /// </summary>
    public static void UploadBatch(IBackend be, GptActivations a, int[] tokens, int[] lengths, int T)
    {
        int B = lengths.Length;
        var positions = new int[B * T];
        var mask = new int[B * T];
        var targets = new int[B * T];
        var weights = new float[B * T];
        var last = new int[B];
        int count = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < lengths[b] - 1; t++) count++;
        for (int b = 0; b < B; b++)
        {
            last[b] = b * T + lengths[b] - 1;
            for (int t = 0; t < T; t++)
            {
                int n = b * T + t;
                bool real = t < lengths[b];
                positions[n] = real ? t : 0;
                mask[n] = real ? 1 : 0;
                targets[n] = t + 1 < lengths[b] ? tokens[n + 1] : -1;
                weights[n] = targets[n] >= 0 ? 1f / count : 0f;
            }
        }
        be.Upload<int>(Head(a.Tokens, B * T), tokens);
        be.Upload<int>(Head(a.Positions, B * T), positions);
        be.Upload<int>(Head(a.KeyMask, B * T), mask);
        be.Upload<int>(Head(a.Targets, B * T), targets);
        be.Upload<float>(Head(a.LossWeights, B * T), weights);
        be.Upload<int>(Head(a.LastRows, B), last);
    }

    public static RlhfCore.Tensors.Tensor Head(RlhfCore.Tensors.Tensor t, long n) => t.Slice(0, n);
}
