using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.Model;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// Finite-difference checks of the full RL objective's gradient (clipped surrogate + entropy bonus +
/// clipped value loss, and the KL loss term) through a tiny policy with a value head, with respect to
/// every parameter tensor. Old log-probabilities and old values are offset from the current ones so that
/// some tokens sit in each branch of both clips, far enough from the kinks for central differences
/// (h = 1e-2), with the same tolerance as the model's own gradient checks.
/// </summary>
public class PolicyLossGradientTests
{
    private const int B = 2, T = 7;
    private const float H = 1e-2f;

    [Test]
    public void PolicyValueAndEntropy() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0.5f, EntropyCoef: 0.01f, KlInLoss: false, KlEstimator.K1, Temperature: 1f), seed: 21);

    [Test]
    public void WithTheKlLossTermAndATemperature() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0.3f, EntropyCoef: 0.02f, KlInLoss: true, KlEstimator.K3, Temperature: 0.7f), seed: 22);

    [Test]
    public void WithTheK2LossTermAndNoValueHead() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0f, EntropyCoef: 0f, KlInLoss: true, KlEstimator.K2, Temperature: 1f), seed: 23);

    [Test]
    public void WithClipHigherDualClipAndDrGrpoAggregation() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0.5f, EntropyCoef: 0.01f, KlInLoss: true, KlEstimator.K3, Temperature: 1f,
            Clip: new PolicyClip(0.15f, 0.28f, 1.5f), Aggregation: LossAggregation.SeqMeanTokenSumNorm, MaxLength: 9), seed: 24);

    [Test]
    public void WithSeqMeanTokenMeanAggregation() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0.3f, EntropyCoef: 0.02f, KlInLoss: false, KlEstimator.K1, Temperature: 0.7f,
            Aggregation: LossAggregation.SeqMeanTokenMean), seed: 22);

    [Test]
    public void AtTheSequenceLevel() =>
        Check(new PolicyLossSettings(0.2f, 0.2f, VfCoef: 0.3f, EntropyCoef: 0f, KlInLoss: true, KlEstimator.K3, Temperature: 1f,
            Clip: new PolicyClip(0.2f, 0.28f, 0f), SequenceLevel: true), seed: 26);

    private static void Check(PolicyLossSettings settings, int seed)
    {
        using var be = new CpuBackend(2);
        var cfg = TinyModels.Config;
        using var model = new GptModel(be, cfg, ModelHeads.Value);
        TinyModels.RandomizeParameters(model, seed);
        using var acts = new GptActivations(be, cfg, B, T);
        var rng = new Random(seed);
        var r = RlTestKit.RandomRollout(rng, B, T, cfg.VocabSize);
        r.Upload(be, acts, [0, 1]);

        // Current log-probabilities and values, then offsets that put tokens on both sides of each clip.
        int N = B * T, V = cfg.VocabSize;
        model.Forward(acts, B, T);
        var logits = acts.Logits.Slice(0, (long)N * V, [N, V]);
        be.Scale(logits, 1f / settings.Temperature, (long)N * V);
        be.TokenLogProbsForward(acts.Losses.Slice(0, N), logits, acts.Targets.Slice(0, N), N, V);
        var logp = new float[N]; var values = new float[N];
        be.Download<float>(acts.Losses.Slice(0, N), logp);
        be.Download<float>(acts.Values.Slice(0, N), values);
        float[] offsets = [-0.6f, -0.05f, 0.05f, 0.5f];
        var inputs = new PolicyLossInputs(r.Mask,
            OldLogp: logp.Select((l, n) => l - offsets[n % 4]).ToArray(),
            RefLogp: logp.Select(l => l + (float)(rng.NextDouble() - 0.5)).ToArray(),
            // Advantages whose sign agrees with the ratio's move (the clip binds) on rows n mod 8 < 4, and disagrees after.
            Advantages: r.Mask.Select((m, n) => m * Math.Sign(offsets[n % 4]) * (n % 8 < 4 ? 1f : -1f) * (float)(0.3 + rng.NextDouble())).ToArray(),
            // Returns on the far side of the value from its old value (the value clip binds) on rows n mod 8 < 4.
            Returns: values.Select((v, n) => v + Math.Sign(offsets[(n + 1) % 4]) * (n % 8 < 4 ? 1f : -1f) * (float)(0.3 + 0.5 * rng.NextDouble())).ToArray(),
            OldValues: values.Select((v, n) => v - offsets[(n + 1) % 4]).ToArray());
        const double beta = 0.3;
        using var loss = new PolicyLoss(model, acts, settings);

        model.ZeroGradients();
        var stats = loss.Run(inputs, beta, backward: true);
        if (!settings.SequenceLevel) Assert.That(stats.ClipFrac, Is.GreaterThan(0).And.LessThan(1), "some tokens on each side of the policy clip");
        if (settings.VfCoef > 0) Assert.That(stats.ValueClipFrac, Is.GreaterThan(0).And.LessThan(1), "some tokens on each side of the value clip");

        var probe = new Random(seed + 100);
        for (int i = 0; i < model.Table.Count; i++)
        {
            var spec = model.Table[i];
            var p = new float[spec.Length]; var g = new float[spec.Length];
            be.Download<float>(model.Parameters.Tensors[i], p);
            be.Download<float>(model.Gradients.Tensors[i], g);
            if (settings.VfCoef == 0 && spec.Name.StartsWith("v_head"))
            {
                Assert.That(g.All(x => x == 0), "without the value loss the value head gets no gradient");
                continue;
            }
            foreach (int j in Enumerable.Range(0, 4).Select(_ => probe.Next(p.Length)).Append(ArgMaxAbs(g)).Distinct())
            {
                float orig = p[j];
                p[j] = orig + H; be.Upload<float>(model.Parameters.Tensors[i], p); double up = loss.Run(inputs, beta, false).Loss;
                p[j] = orig - H; be.Upload<float>(model.Parameters.Tensors[i], p); double down = loss.Run(inputs, beta, false).Loss;
                p[j] = orig; be.Upload<float>(model.Parameters.Tensors[i], p);
                double fd = (up - down) / (2 * H);
                Assert.That(Math.Abs(fd - g[j]), Is.LessThanOrEqualTo(2e-3 + 3e-2 * Math.Abs(g[j])),
                    $"{spec.Name}[{j}]: analytic {g[j]:g5}, finite difference {fd:g5}");
            }
        }
    }

    private static int ArgMaxAbs(float[] a)
    {
        int best = 0;
        for (int i = 1; i < a.Length; i++) if (Math.Abs(a[i]) > Math.Abs(a[best])) best = i;
        return best;
    }
}
