using System.Numerics.Tensors;
using RlhfCore.Backends;
using RlhfCore.Feedback;
using RlhfCore.Model;

namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// A shared-trunk ensemble's heads (the "linear-layer ensemble" of Zhang et al., 2024): one trained reward
/// model's trunk is frozen, and each further member is a fresh reward head r = w·h on the trunk's final hidden
/// state h at the last token, with its own seed (initialization N(0, 0.02²)) and its own bootstrap resample,
/// fitted by full-batch Adam on the same Bradley–Terry or Plackett–Luce loss (scores and loss in float64,
/// dot products and gradient sums in float32 SIMD). The members then
/// differ only in their heads, so the trunk runs once per sequence for all of them.
/// </summary>
public static class LinearHeads
{
    /// <summary>Full-batch Adam iterations per head.</summary>
    public const int Iterations = 150;
    /// <summary>Adam learning rate of a head.</summary>
    public const double LearningRate = 0.03;

    /// <summary>The trunk's hidden state of every sequence of <paramref name="examples"/>, in order: [sequences][C].</summary>
    public static float[][] Features(GptModel trunk, IReadOnlyList<RewardExample> examples, int maxRows, int seqLen)
    {
        int C = trunk.Config.Channels;
        var sequences = examples.SelectMany(e => e.Sequences).ToList();
        var features = new float[sequences.Count][];
        using var step = new RewardStep(trunk, maxRows, seqLen);
        var batch = new RewardBatch(maxRows, seqLen);
        var hidden = new float[maxRows * C];
        for (int start = 0; start < sequences.Count; start += maxRows)
        {
            batch.Clear();
            int end = Math.Min(sequences.Count, start + maxRows);
            for (int i = start; i < end; i++) batch.AddRow(sequences[i].AsSpan(Math.Max(0, sequences[i].Length - seqLen)));
            step.Features(batch, hidden);
            for (int i = start; i < end; i++) features[i] = hidden.AsSpan((i - start) * C, C).ToArray();
        }
        return features;
    }

    /// <summary>
    /// Fits one head on <paramref name="examples"/> (pairs or rankings) given their sequences' features, in
    /// example order; returns w [C] and the final mean loss.
    /// </summary>
    public static (float[] Weight, double Loss) Fit(IReadOnlyList<RewardExample> examples, IReadOnlyList<float[]> features, ulong seed)
    {
        if (examples.Count == 0) throw new ArgumentException("no examples to fit a head on", nameof(examples));
        var kind = RewardLosses.For(examples[0].Kind);
        if (kind is not (RewardLoss.BradleyTerry or RewardLoss.PlackettLuce))
            throw new ArgumentException($"a shared-trunk ensemble fits heads on pairs or rankings, not {examples[0].Kind}");
        int C = features[0].Length, n = features.Count;
        var starts = new int[examples.Count];
        var sizes = new int[examples.Count];
        var margins = new double[examples.Count];
        for (int g = 0, row = 0; g < examples.Count; row += sizes[g], g++)
        {
            starts[g] = row;
            sizes[g] = examples[g].Sequences.Length;
            margins[g] = examples[g].Margin;
        }
        var rng = new Rng(seed ^ 0x4EAD5EEDUL);
        var w = new float[C];
        for (int c = 0; c < C; c++) w[c] = (float)(0.02 * rng.NextGaussian());
        var m = new double[C];
        var v = new double[C];
        var scores = new double[n];
        var grad = new double[n];
        var gw = new float[C];
        double loss = double.NaN;
        for (int it = 1; it <= Iterations; it++)
        {
            // SIMD dot products and axpys (TensorPrimitives): the fit is n·C multiply-adds twice per iteration.
            for (int i = 0; i < n; i++) scores[i] = TensorPrimitives.Dot<float>(w, features[i]);
            loss = kind == RewardLoss.BradleyTerry ? RewardLosses.BradleyTerry(scores, margins, grad) : RewardLosses.PlackettLuce(scores, starts, sizes, grad);
            Array.Clear(gw);
            for (int i = 0; i < n; i++)
                if (grad[i] != 0) TensorPrimitives.MultiplyAdd(features[i], (float)grad[i], gw, gw);
            // Adam (β1 0.9, β2 0.999), bias-corrected, moments in float64.
            double b1 = 1 - Math.Pow(0.9, it), b2 = 1 - Math.Pow(0.999, it);
            for (int c = 0; c < C; c++)
            {
                m[c] = 0.9 * m[c] + 0.1 * gw[c];
                v[c] = 0.999 * v[c] + 0.001 * gw[c] * gw[c];
                w[c] -= (float)(LearningRate * (m[c] / b1) / (Math.Sqrt(v[c] / b2) + 1e-12));
            }
        }
        return (w, loss);
    }

    /// <summary>
    /// Heads for members 1…K−1 on <paramref name="trunk"/> (member 0, trained). Member k fits its head, from its
    /// own initialization (<paramref name="seeds"/>[k]), on its own bootstrap resample of
    /// <paramref name="recordsPerMember"/> training records (<paramref name="bootstrapSeeds"/>[k]) — as many as a
    /// full member's training reads (steps × batch), so the trunk's features are computed for at most
    /// (K − 1) × that many records, each once. Returns one head per member, member 0's own first.
    /// </summary>
    public static List<float[]> FitMembers(GptModel trunk, IReadOnlyList<RewardExample> train, IReadOnlyList<ulong> seeds, IReadOnlyList<ulong> bootstrapSeeds,
        int recordsPerMember, int maxRows, int seqLen)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(recordsPerMember, 1);
        var indices = Enumerable.Range(0, train.Count).ToList();
        var samples = Enumerable.Range(1, seeds.Count - 1).Select(k => Bootstrap.Resample(indices, bootstrapSeeds[k], recordsPerMember)).ToList();
        var needed = samples.SelectMany(s => s).Distinct().Order().ToList();
        var featureRows = Features(trunk, needed.Select(i => train[i]).ToList(), maxRows, seqLen);
        var rowsOf = new Dictionary<int, float[][]>();
        for (int j = 0, row = 0; j < needed.Count; row += train[needed[j]].Sequences.Length, j++)
            rowsOf[needed[j]] = featureRows[row..(row + train[needed[j]].Sequences.Length)];
        var heads = new List<float[]> { Head(trunk) };
        for (int k = 1; k < seeds.Count; k++)
        {
            var sample = samples[k - 1];
            heads.Add(Fit(sample.Select(i => train[i]).ToList(), sample.SelectMany(i => rowsOf[i]).ToList(), seeds[k]).Weight);
        }
        return heads;
    }

    /// <summary>Writes <paramref name="weight"/> into <paramref name="model"/>'s reward head.</summary>
    public static void SetHead(GptModel model, float[] weight)
    {
        var head = model.Parameters[GptParameters.RewardWeight];
        if (head.Length != weight.Length) throw new ArgumentException($"a head of {weight.Length} weights for a reward head of {head.Length}");
        model.Backend.Upload<float>(head, weight);
    }

    /// <summary>The reward head of <paramref name="model"/>, downloaded.</summary>
    public static float[] Head(GptModel model)
    {
        var head = model.Parameters[GptParameters.RewardWeight];
        var w = new float[head.Length];
        model.Backend.Download<float>(head, w);
        return w;
    }
}
