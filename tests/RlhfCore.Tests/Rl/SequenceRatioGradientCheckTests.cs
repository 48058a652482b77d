using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.Model;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// GSPO's sequence-level loss through a tiny policy: <see cref="SequenceRatioLoss"/> on the model's logits, its dlogits
/// through <see cref="GptModel.Backward"/>, and every parameter tensor's gradient against central differences of the loss
/// (h = 1e-2, the tolerance of <see cref="PolicyLossGradientTests"/>). Old log-probs are offset by one constant per
/// sequence, so the sequence ratios are e^0.05 (inside the clip, A &gt; 0) and e^0.5 (above it, A &lt; 0: not clipped).
/// </summary>
public class SequenceRatioGradientCheckTests
{
    private const int B = 2, T = 7;
    private const float H = 1e-2f;

    [Test]
    public void PolicyGradientMatchesFiniteDifferences()
    {
        using var be = new CpuBackend(2);
        var cfg = TinyModels.Config;
        using var model = new GptModel(be, cfg);
        TinyModels.RandomizeParameters(model, 61);
        using var acts = new GptActivations(be, cfg, B, T);
        var rng = new Random(61);
        var r = RlTestKit.RandomRollout(rng, B, T, cfg.VocabSize);
        r.Upload(be, acts, [0, 1]);
        int N = B * T, V = cfg.VocabSize;
        var logits = acts.Logits.Slice(0, (long)N * V, [N, V]);
        var actions = acts.Targets.Slice(0, N);
        model.Forward(acts, B, T);
        be.TokenLogProbsForward(acts.Losses.Slice(0, N), logits, actions, N, V);
        var logp = new float[N];
        be.Download<float>(acts.Losses.Slice(0, N), logp);
        double[] offsets = [0.05, 0.5], advantages = [0.7, -0.9];
        var old = logp.Select((l, n) => (float)(l - offsets[n / T])).ToArray();
        var weights = LossAggregationWeights.Compute(r.Mask, B, LossAggregation.SeqMeanTokenMean, T);
        var clip = PolicyClip.Symmetric(0.2f);
        using var u = new KernelTestUtil(be, seed: 1);
        var dlogits = u.Poisoned(N, V);
        using var loss = new SequenceRatioLoss(be, B, T);

        double Run(bool backward)
        {
            model.Forward(acts, B, T);
            var stats = loss.Run(dlogits, logits, actions, V, old, r.Mask, weights, advantages, clip, backward);
            if (backward)
            {
                be.Copy(logits, dlogits);
                model.Backward(acts, B, T, new BackwardSources(Logits: true));
            }
            return stats.Loss;
        }

        model.ZeroGradients();
        Run(backward: true);
        Assert.That(loss.Ratios.ToArray(), Is.EqualTo(offsets.Select(Math.Exp).ToArray()).Within(1e-4), "the ratios are e^offset");
        var probe = new Random(162);
        FiniteDifferenceProbe.EveryTensor(be, model, () => Run(false), probe, H, 4);
    }
}
