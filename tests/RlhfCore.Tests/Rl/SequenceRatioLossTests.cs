using RlhfCore.Rl;
using RlhfCore.Tests.Kernels;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// GSPO's sequence-level ratio through the backends' log-prob kernels against <see cref="GspoReference"/>:
/// four sequences of different lengths whose ratios sit in the clip bands (below 1−ε with A &lt; 0: clipped; inside;
/// above 1+ε with A &gt; 0: clipped; above with A &lt; 0: not), 0.05 clear of the bounds. The ratio must equal
/// exp(mean token log-ratio) to float accuracy; dlogits must match central differences (h = 1e-5) of the float64
/// reference to 1e-5 + 1e-4·|fd| (the token log-probs are float).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class SequenceRatioLossTests(string device) : KernelFixture(device)
{
    private const int B = 4, T = 6, V = 7;
    private static readonly PolicyClip Clip = PolicyClip.Symmetric(0.2f);
    private static readonly double[] TargetRatios = [0.7, 1.05, 1.4, 1.4];
    private static readonly double[] Advantages = [-0.8, 0.6, 1.3, -1.1];

    private sealed record Case(float[] Logits, int[] Actions, float[] Old, float[] Mask, float[] Weights);

    private static double[] Widen(float[] a) => a.Select(x => (double)x).ToArray();

    private static Case Make(KernelTestUtil u)
    {
        var logits = u.RandomFloats(B * T * V, -2f, 2f);
        var actions = u.RandomInts(B * T, 0, V);
        var mask = new float[B * T];
        for (int b = 0; b < B; b++)
            for (int t = 1; t < 2 + b; t++) mask[b * T + t] = 1; // lengths 1, 2, 3, 4 after a prompt row
        var old = new float[B * T];
        for (int b = 0; b < B; b++)
        {
            // per-token log-ratios with noise that sums to 0, so the mean is exactly log(target)
            int len = 1 + b;
            var noise = Enumerable.Range(0, len).Select(_ => 0.3 * (u.Rng.NextDouble() - 0.5)).ToArray();
            double nm = noise.Average();
            for (int j = 0; j < len; j++)
            {
                int n = b * T + 1 + j;
                double lp = PpoLossReference.LogSoftmax(Widen(logits[(n * V)..((n + 1) * V)]))[actions[n]];
                old[n] = (float)(lp - Math.Log(TargetRatios[b]) - (noise[j] - nm));
            }
        }
        var w = LossAggregationWeights.Compute(mask, B, LossAggregation.SeqMeanTokenMean, T);
        return new Case(logits, actions, old, mask, w);
    }

    private (float[] DLogits, SequenceRatioStats Stats, double[] Ratios) RunKernel(KernelTestUtil u, Case c)
    {
        using var loss = new SequenceRatioLoss(u.Backend, B, T);
        var dlogits = u.Poisoned(B * T, V);
        var stats = loss.Run(dlogits, u.Upload(c.Logits, B * T, V), u.Upload(c.Actions), V, c.Old, c.Mask, c.Weights, Advantages, Clip, backward: true);
        return (u.Read(dlogits), stats, loss.Ratios.ToArray());
    }

    [Test]
    public void RatioIsExpOfTheMeanTokenLogRatio()
    {
        using var u = new KernelTestUtil(Backend, seed: 11);
        var c = Make(u);
        var got = RunKernel(u, c);
        var want = GspoReference.Run(Widen(c.Logits), c.Actions, Widen(c.Old), Widen(c.Mask), Widen(c.Weights), Advantages, B, V, Clip.Low, Clip.High);
        Assert.That(got.Ratios, Is.EqualTo(want.Ratios).Within(2e-5));
        Assert.That(got.Ratios, Is.EqualTo(TargetRatios).Within(2e-5), "the inputs were built with these sequence ratios");
        Assert.That(got.Stats.Loss, Is.EqualTo(want.Loss).Within(2e-5));
        // sequences 0 and 2 are clipped, each carrying weight 1/4 under seq-mean-token-mean
        Assert.That(got.Stats.ClipFrac, Is.EqualTo(0.5).Within(1e-6));
    }

    [Test]
    public void GradientMatchesFiniteDifferences()
    {
        const double h = 1e-5;
        using var u = new KernelTestUtil(Backend, seed: 12);
        var c = Make(u);
        var got = RunKernel(u, c);
        var logits = Widen(c.Logits);
        var fd = new double[logits.Length];
        for (int i = 0; i < logits.Length; i++)
        {
            double keep = logits[i];
            logits[i] = keep + h;
            double up = GspoReference.Run(logits, c.Actions, Widen(c.Old), Widen(c.Mask), Widen(c.Weights), Advantages, B, V, Clip.Low, Clip.High).Loss;
            logits[i] = keep - h;
            double down = GspoReference.Run(logits, c.Actions, Widen(c.Old), Widen(c.Mask), Widen(c.Weights), Advantages, B, V, Clip.Low, Clip.High).Loss;
            logits[i] = keep;
            fd[i] = (up - down) / (2 * h);
        }
        Assert.That(fd.Count(x => Math.Abs(x) > 1e-3), Is.GreaterThan(10), "the unclipped sequences carry a gradient");
        KernelTestUtil.AssertClose(got.DLogits, fd, 1e-5, 1e-4, "dlogits vs finite differences");
    }

    [Test]
    public void AliasedDlogitsAndTheDualClipAreRejected()
    {
        using var u = new KernelTestUtil(Backend, seed: 13);
        var c = Make(u);
        using var loss = new SequenceRatioLoss(u.Backend, B, T);
        var logits = u.Upload(c.Logits, B * T, V);
        Assert.Throws<ArgumentException>(() => loss.Run(logits, logits, u.Upload(c.Actions), V, c.Old, c.Mask, c.Weights, Advantages, Clip, true));
        var e = Assert.Throws<ArgumentException>(() => loss.Run(u.Poisoned(B * T, V), logits, u.Upload(c.Actions), V, c.Old, c.Mask, c.Weights, Advantages,
            new PolicyClip(0.2f, 0.2f, 3f), true));
        Assert.That(e!.Message, Does.Contain("dual clip"));
    }
}
