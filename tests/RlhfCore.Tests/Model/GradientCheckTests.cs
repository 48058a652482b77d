using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.Model;

/// <summary>
/// Finite-difference checks of the whole model's backward pass, for each head's loss, with respect to
/// every parameter tensor. The loss is a float32 forward pass summed on the host in float64; central
/// differences with h = 1e-2 on parameters of magnitude ~0.4 give errors near 1e-4, so the tolerance is
/// |fd − analytic| ≤ 2e-3 + 3e-2·|analytic|. A wrong sign, a missing term or a dropped accumulation
/// misses it by far more.
/// </summary>
public class GradientCheckTests
{
    private const int B = 2, T = 7;
    private const float H = 1e-2f;

    private static (CpuBackend, GptModel, GptActivations) Setup(ModelHeads heads, int seed)
    {
        var be = new CpuBackend(2);
        var model = new GptModel(be, TinyModels.Config, heads);
        TinyModels.RandomizeParameters(model, seed);
        var acts = new GptActivations(be, TinyModels.Config, B, T);
        var rng = new Random(seed + 1);
        var tokens = new int[B * T];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(TinyModels.Config.VocabSize);
        TinyModels.UploadBatch(be, acts, tokens, lengths: [T, 4], T);
        return (be, model, acts);
    }

    [Test]
    public void LanguageModelLoss() => Check(ModelHeads.None, seed: 11, lm: true, values: null, rewards: null);

    [Test]
    public void ValueHeadLoss() => Check(ModelHeads.Value, seed: 12, lm: false, values: Coefficients(B * T, 3), rewards: null);

    [Test]
    public void RewardHeadLoss() => Check(ModelHeads.Reward, seed: 13, lm: false, values: null, rewards: Coefficients(B, 4));

    [Test]
    public void AllHeadsTogether() =>
        Check(ModelHeads.Value | ModelHeads.Reward, seed: 14, lm: true, values: Coefficients(B * T, 5), rewards: Coefficients(B, 6));

    [Test]
    public void HiddenStateGradientAlone() => Check(ModelHeads.None, seed: 15, lm: false, values: null, rewards: null, hidden: Coefficients(B * T * TinyModels.Config.Channels, 7));

    [Test]
    public void HiddenStateGradientWithTheHeads() =>
        Check(ModelHeads.Value | ModelHeads.Reward, seed: 16, lm: true, values: Coefficients(B * T, 8), rewards: Coefficients(B, 9), hidden: Coefficients(B * T * TinyModels.Config.Channels, 10));

    private static float[] Coefficients(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>loss = LM cross-entropy (weighted mean) + Σ c·values + Σ d·rewards + Σ e·lnf (the hidden-state hook of <see cref="BackwardSources.Hidden"/>).</summary>
    private static void Check(ModelHeads heads, int seed, bool lm, float[]? values, float[]? rewards, float[]? hidden = null)
    {
        var (be, model, acts) = Setup(heads, seed);
        using var _b = be; using var _m = model; using var _a = acts;
        int N = B * T, V = model.Config.VocabSize, C = model.Config.Channels;
        using var extra = new TensorArena(be, [new("dhidden", DType.F32, [N, C])]);
        if (hidden != null) be.Upload<float>(extra["dhidden"], hidden);

        double Loss(bool backward)
        {
            model.Forward(acts, B, T, computeLogits: lm);
            double total = 0;
            if (lm)
            {
                be.CrossEntropyForwardBackward(acts.Losses, backward ? acts.Logits : Tensor.None, acts.Logits, acts.Targets, acts.LossWeights, N, V);
                var losses = new float[N]; var w = new float[N];
                be.Download<float>(acts.Losses, losses); be.Download<float>(acts.LossWeights, w);
                for (int i = 0; i < N; i++) total += (double)losses[i] * w[i];
            }
            if (values != null)
            {
                var v = new float[N];
                be.Download<float>(acts.Values, v);
                for (int i = 0; i < N; i++) total += (double)v[i] * values[i];
                if (backward) be.Upload<float>(acts.DValues, values);
            }
            if (rewards != null)
            {
                var r = new float[B];
                be.Download<float>(acts.Rewards.Slice(0, B, [B, 1]), r);
                for (int i = 0; i < B; i++) total += (double)r[i] * rewards[i];
                if (backward) be.Upload<float>(acts.DRewards.Slice(0, B, [B, 1]), rewards);
            }
            if (hidden != null)
            {
                var h = new float[N * C];
                be.Download<float>(acts.Lnf.Slice(0, (long)N * C), h);
                for (int i = 0; i < h.Length; i++) total += (double)h[i] * hidden[i];
            }
            if (backward) model.Backward(acts, B, T, new BackwardSources(lm, values != null, rewards != null, hidden != null ? extra["dhidden"] : Tensor.None));
            return total;
        }

        model.ZeroGradients();
        Loss(backward: true);
        var rng = new Random(seed + 100);
        int checkedTensors = 0;
        for (int i = 0; i < model.Table.Count; i++)
        {
            var spec = model.Table[i];
            var p = new float[spec.Length]; var g = new float[spec.Length];
            be.Download<float>(model.Parameters.Tensors[i], p);
            be.Download<float>(model.Gradients.Tensors[i], g);
            // Embedding rows of tokens that never occur have zero gradient; test the rows that do by
            // probing a handful of random elements plus the element of largest analytic gradient.
            var probe = Enumerable.Range(0, 5).Select(_ => rng.Next(p.Length)).Append(ArgMaxAbs(g)).Distinct();
            foreach (int j in probe)
            {
                float orig = p[j];
                p[j] = orig + H; be.Upload<float>(model.Parameters.Tensors[i], p); double up = Loss(false);
                p[j] = orig - H; be.Upload<float>(model.Parameters.Tensors[i], p); double down = Loss(false);
                p[j] = orig; be.Upload<float>(model.Parameters.Tensors[i], p);
                double fd = (up - down) / (2 * H);
                double tol = 2e-3 + 3e-2 * Math.Abs(g[j]);
                Assert.That(Math.Abs(fd - g[j]), Is.LessThanOrEqualTo(tol),
                    $"{spec.Name}[{j}]: analytic {g[j]:g5}, finite difference {fd:g5}");
            }
            checkedTensors++;
        }
        Assert.That(checkedTensors, Is.EqualTo(model.Table.Count));
    }

    private static int ArgMaxAbs(float[] a)
    {
        int best = 0;
        for (int i = 1; i < a.Length; i++) if (Math.Abs(a[i]) > Math.Abs(a[best])) best = i;
        return best;
    }
}
