using RlhfCore.Backends.Cpu;
using RlhfCore.Rl;
using RlhfCore.Tensors;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The fused PPO loss kernel against <see cref="PpoLossReference"/>. Old log-probs are set so the ratio lies
/// in one of three bands at least 0.02 away from the clip bounds 1 ± ε, so float rounding can never flip
/// the clipped flag and the flag is compared exactly. Tolerances (atol + |ref|·rtol): per-row outputs
/// 2e-5 + 2e-5 (float log-sum-exp over ≤ 1025 logits of magnitude ≤ 3 errs by a few 1e-6); dlogits
/// 1e-5 + 1e-4 (a dropped entropy term with c = 0.05 is off by ~1e-3).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class PpoLossTests(string device) : KernelFixture(device)
{
    private const float ClipEps = 0.2f;

    /// <summary>Random kernel inputs with ratios in known bands and some zero weights.</summary>
    private sealed record Inputs(float[] Logits, int[] Actions, float[] OldLogp, float[] Advantages, float[] Weights);

    private static Inputs MakeInputs(KernelTestUtil u, int N, int V, bool zeroWeights = true)
    {
        var logits = u.RandomFloats((long)N * V, -3f, 3f);
        var actions = u.RandomInts(N, 0, V);
        var old = new float[N];
        var adv = new float[N];
        var w = new float[N];
        for (int n = 0; n < N; n++)
        {
            double lp = PpoLossReference.LogSoftmax(Widen(logits.AsSpan(n * V, V)))[actions[n]];
            old[n] = (float)(lp - Math.Log(RatioInBand(u.Rng, u.Rng.Next(3))));
            adv[n] = (float)((u.Rng.Next(2) == 0 ? -1 : 1) * (0.1 + 1.9 * u.Rng.NextDouble()));
            w[n] = zeroWeights && u.Rng.Next(5) == 0 ? 0f : (float)(0.05 + 0.95 * u.Rng.NextDouble());
        }
        return new Inputs(logits, actions, old, adv, w);
    }

    /// <summary>A ratio below 1−ε (band 0), inside (1), or above 1+ε (2), 0.02 clear of the bounds.</summary>
    private static double RatioInBand(Random rng, int band) => band switch
    {
        0 => 0.5 + (1 - ClipEps - 0.02 - 0.5) * rng.NextDouble(),
        1 => 1 - ClipEps + 0.02 + (2 * ClipEps - 0.04) * rng.NextDouble(),
        _ => 1 + ClipEps + 0.02 + 0.4 * rng.NextDouble(),
    };

    private static double[] Widen(ReadOnlySpan<float> a)
    {
        var d = new double[a.Length];
        for (int i = 0; i < a.Length; i++) d[i] = a[i];
        return d;
    }

    /// <summary>Kernel outputs on the host: losses, logp, entropy, clipped, dlogits.</summary>
    private static (float[] Losses, float[] Logp, float[] Entropy, float[] Clipped, float[] DLogits) RunKernel(
        KernelTestUtil u, Inputs x, int N, int V, float entropyCoef, bool inPlace = false, PolicyClip? clipOrSymmetric = null)
    {
        var clip = clipOrSymmetric ?? PolicyClip.Symmetric(ClipEps);
        var logits = u.Upload(x.Logits, N, V);
        var dlogits = inPlace ? logits : u.Poisoned(N, V);
        Tensor losses = u.Poisoned(N), logp = u.Poisoned(N), entropy = u.Poisoned(N), clipped = u.Poisoned(N);
        u.Backend.PpoLossForwardBackward(dlogits, losses, logp, entropy, clipped, logits, u.Upload(x.Actions),
            u.Upload(x.OldLogp), u.Upload(x.Advantages), u.Upload(x.Weights), N, V, clip.Low, clip.High, clip.Dual, entropyCoef);
        return (u.Read(losses), u.Read(logp), u.Read(entropy), u.Read(clipped), u.Read(dlogits));
    }

    private static PpoLossReference.Result Reference(Inputs x, int N, int V, double entropyCoef, PolicyClip? clipOrSymmetric = null)
    {
        var clip = clipOrSymmetric ?? PolicyClip.Symmetric(ClipEps);
        return PpoLossReference.Run(Widen(x.Logits), x.Actions, Widen(x.OldLogp), Widen(x.Advantages), Widen(x.Weights), N, V,
            clip.Low, clip.High, clip.Dual, entropyCoef);
    }

    [Test]
    public void MatchesReferenceOnOddShapes(
        [Values(1, 7, 97)] int N, [Values(1, 7, 97, 1025)] int V)
    {
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: 1000 * N + V);
        var x = MakeInputs(u, N, V);
        var got = RunKernel(u, x, N, V, entropyCoef: 0.05f);
        var want = Reference(x, N, V, 0.05);

        KernelTestUtil.AssertClose(got.Logp, want.Logp, 2e-5, 2e-5, "logp");
        KernelTestUtil.AssertClose(got.Entropy, want.Entropy, 2e-5, 2e-5, "entropy");
        KernelTestUtil.AssertClose(got.Losses, want.Losses, 2e-5, 2e-5, "losses");
        Assert.That(got.Clipped, Is.EqualTo(want.Clipped.Select(c => (float)c).ToArray()), "clipped");
        KernelTestUtil.AssertClose(got.DLogits, want.DLogits, 1e-5, 1e-4, "dlogits");
        for (int n = 0; n < N; n++)
            if (x.Weights[n] == 0)
                Assert.That(got.DLogits.AsSpan(n * V, V).ToArray(), Is.All.EqualTo(0f), $"row {n} has weight 0");
    }

    /// <summary>
    /// dlogits against central differences (h = 1e-5, float64) of Σ w·loss of the reference, on rows that
    /// cover clipped and unclipped tokens with positive and negative advantages; a large entropy coefficient
    /// makes the entropy gradient a visible part. Central differences err by ~1e-9 here, so the kernel
    /// gets its float tolerance 1e-5 + 1e-4·|fd| and the reference's own chain rule gets 1e-7.
    /// </summary>
    [Test]
    public void GradientMatchesFiniteDifferences()
    {
        const int N = 8, V = 7;
        const double c = 0.3, h = 1e-5;
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: 77);
        var x = MakeInputs(u, N, V, zeroWeights: false);
        // rows (ratio band, sign of A): (above, +) and (below, −) clip; (inside, ±), (above, −) and (below, +) do not
        int[] bands = [2, 1, 0, 2, 2, 1, 0, 0];
        int[] signs = [1, 1, -1, -1, 1, -1, -1, 1];
        for (int n = 0; n < N; n++)
        {
            double lp = PpoLossReference.LogSoftmax(Widen(x.Logits.AsSpan(n * V, V)))[x.Actions[n]];
            x.OldLogp[n] = (float)(lp - Math.Log(RatioInBand(u.Rng, bands[n])));
            x.Advantages[n] = signs[n] * Math.Abs(x.Advantages[n]);
        }
        var got = RunKernel(u, x, N, V, (float)c);
        var want = Reference(x, N, V, c);
        Assert.That(got.Clipped, Is.EqualTo(new float[] { 1, 0, 1, 0, 1, 0, 1, 0 }), "the rows cover both branches");

        var logits = Widen(x.Logits);
        var fd = new double[N * V];
        for (int i = 0; i < N * V; i++)
        {
            double keep = logits[i];
            logits[i] = keep + h;
            double up = PpoLossReference.WeightedLoss(logits, x.Actions, Widen(x.OldLogp), Widen(x.Advantages), Widen(x.Weights), N, V, ClipEps, ClipEps, 0, c);
            logits[i] = keep - h;
            double down = PpoLossReference.WeightedLoss(logits, x.Actions, Widen(x.OldLogp), Widen(x.Advantages), Widen(x.Weights), N, V, ClipEps, ClipEps, 0, c);
            logits[i] = keep;
            fd[i] = (up - down) / (2 * h);
        }
        KernelTestUtil.AssertClose(want.DLogits.Select(d => (float)d).ToArray(), fd, 1e-7, 1e-6, "reference dlogits vs finite differences");
        KernelTestUtil.AssertClose(got.DLogits, fd, 1e-5, 1e-4, "kernel dlogits vs finite differences");
    }

    /// <summary>DAPO's clip-higher with the dual clip: ε_low 0.2, ε_high 0.28, c = 3.</summary>
    private static readonly PolicyClip Dapo = new(0.2f, 0.28f, 3f);

    /// <summary>
    /// Rows in the four ratio bands of <see cref="Dapo"/> (below 1−ε_low, inside, between 1+ε_high and c, above c;
    /// 0.02 clear of every bound) with both signs of A: (band, sign) of row n is (n mod 4, − for n/4 even).
    /// </summary>
    private static Inputs DapoInputs(KernelTestUtil u, int N, int V)
    {
        var x = MakeInputs(u, N, V, zeroWeights: false);
        for (int n = 0; n < N; n++)
        {
            double lp = PpoLossReference.LogSoftmax(Widen(x.Logits.AsSpan(n * V, V)))[x.Actions[n]];
            double ratio = (n % 4) switch
            {
                0 => 0.5 + 0.28 * u.Rng.NextDouble(),
                1 => 0.82 + 0.44 * u.Rng.NextDouble(),
                2 => 1.30 + 1.68 * u.Rng.NextDouble(),
                _ => 3.02 + 0.5 * u.Rng.NextDouble(),
            };
            x.OldLogp[n] = (float)(lp - Math.Log(ratio));
            x.Advantages[n] = (n / 4 % 2 == 0 ? -1 : 1) * Math.Abs(x.Advantages[n]);
        }
        return x;
    }

    /// <summary>Clip-higher and the dual clip against the reference: flags exactly (0, 1 and 2 all occur), values and dlogits.</summary>
    [Test]
    public void ClipHigherAndDualClipMatchReference([Values(8, 97)] int N, [Values(7, 1025)] int V)
    {
        using var u = new KernelTestUtil(Backend, seed: 31 * N + V);
        var x = DapoInputs(u, N, V);
        var got = RunKernel(u, x, N, V, 0.05f, clipOrSymmetric: Dapo);
        var want = Reference(x, N, V, 0.05, Dapo);
        Assert.That(got.Clipped, Is.EqualTo(want.Clipped.Select(c => (float)c).ToArray()), "clipped");
        Assert.That(got.Clipped, Does.Contain(1f).And.Contain(2f), "the rows take the ratio clip and the dual clip");
        KernelTestUtil.AssertClose(got.Logp, want.Logp, 2e-5, 2e-5, "logp");
        KernelTestUtil.AssertClose(got.Losses, want.Losses, 2e-5, 2e-5, "losses");
        KernelTestUtil.AssertClose(got.DLogits, want.DLogits, 1e-5, 1e-4, "dlogits");
    }

    /// <summary>
    /// The dual-clipped branch by hand: A = −1, ratio 4 &gt; c = 3 gives loss −A·c = 3 exactly (entropy off), flag 2,
    /// and a zero gradient; with the dual clip off (0) the same row gives −A·r = 4 and flag 0. Clip-high alone moves
    /// the upper bound: A = +1, ratio 1.25 is clipped under ε 0.2 (loss −1.2) but not under ε_high 0.28 (loss −1.25).
    /// </summary>
    [Test]
    public void DualClipAndClipHigherByHand()
    {
        using var u = new KernelTestUtil(Backend, seed: 3);
        const int V = 5;
        var x = MakeInputs(u, 1, V, zeroWeights: false);
        double lp = PpoLossReference.LogSoftmax(Widen(x.Logits.AsSpan(0, V)))[x.Actions[0]];

        x.OldLogp[0] = (float)(lp - Math.Log(4));
        x.Advantages[0] = -1;
        var dual = RunKernel(u, x, 1, V, 0f, clipOrSymmetric: Dapo);
        Assert.That(dual.Losses[0], Is.EqualTo(3f), "−A·c");
        Assert.That(dual.Clipped[0], Is.EqualTo(2f));
        Assert.That(dual.DLogits, Is.All.EqualTo(0f), "the dual-clipped loss is constant in the logits");
        var off = RunKernel(u, x, 1, V, 0f, clipOrSymmetric: new PolicyClip(0.2f, 0.28f, 0f));
        Assert.That(off.Losses[0], Is.EqualTo(4f).Within(1e-5), "−A·r");
        Assert.That(off.Clipped[0], Is.EqualTo(0f));

        x.OldLogp[0] = (float)(lp - Math.Log(1.25));
        x.Advantages[0] = 1;
        Assert.That(RunKernel(u, x, 1, V, 0f).Losses[0], Is.EqualTo(-1.2f).Within(1e-6), "ε = 0.2 clips at 1.2");
        var higher = RunKernel(u, x, 1, V, 0f, clipOrSymmetric: Dapo);
        Assert.That(higher.Losses[0], Is.EqualTo(-1.25f).Within(1e-5), "ε_high = 0.28 leaves 1.25 unclipped");
        Assert.That(higher.Clipped[0], Is.EqualTo(0f));
    }

    /// <summary>With clip-higher and the dual clip, the kernel's dlogits against central differences of the reference (as above).</summary>
    [Test]
    public void DualClipGradientMatchesFiniteDifferences()
    {
        const int N = 8, V = 7;
        const double c = 0.3, h = 1e-5;
        using var u = new KernelTestUtil(Backend, seed: 78);
        var x = DapoInputs(u, N, V);
        var got = RunKernel(u, x, N, V, (float)c, clipOrSymmetric: Dapo);
        Assert.That(got.Clipped, Does.Contain(2f));
        var logits = Widen(x.Logits);
        var fd = new double[N * V];
        for (int i = 0; i < N * V; i++)
        {
            double keep = logits[i];
            logits[i] = keep + h;
            double up = PpoLossReference.WeightedLoss(logits, x.Actions, Widen(x.OldLogp), Widen(x.Advantages), Widen(x.Weights), N, V, Dapo.Low, Dapo.High, Dapo.Dual, c);
            logits[i] = keep - h;
            double down = PpoLossReference.WeightedLoss(logits, x.Actions, Widen(x.OldLogp), Widen(x.Advantages), Widen(x.Weights), N, V, Dapo.Low, Dapo.High, Dapo.Dual, c);
            logits[i] = keep;
            fd[i] = (up - down) / (2 * h);
        }
        KernelTestUtil.AssertClose(got.DLogits, fd, 1e-5, 1e-4, "kernel dlogits vs finite differences");
    }

    /// <summary>dlogits aliasing logits gives bit-identical results, and so does any thread count.</summary>
    [Test]
    public void InPlaceAndThreadCountGiveIdenticalBits([Values(7, 1025)] int V)
    {
        CpuBackendOnly("thread counts and host-side checks are CPU-backend properties");
        const int N = 33;
        using var be2 = new CpuBackend(2);
        using var be3 = new CpuBackend(3);
        using var u2 = new KernelTestUtil(be2, seed: 5);
        using var u3 = new KernelTestUtil(be3, seed: 5);
        var x = MakeInputs(u2, N, V);
        var separate = RunKernel(u2, x, N, V, 0.05f);
        var inPlace = RunKernel(u2, x, N, V, 0.05f, inPlace: true);
        var threeThreads = RunKernel(u3, x, N, V, 0.05f);
        foreach (var other in new[] { inPlace, threeThreads })
        {
            Assert.That(other.DLogits, Is.EqualTo(separate.DLogits));
            Assert.That(other.Losses, Is.EqualTo(separate.Losses));
            Assert.That(other.Logp, Is.EqualTo(separate.Logp));
            Assert.That(other.Entropy, Is.EqualTo(separate.Entropy));
            Assert.That(other.Clipped, Is.EqualTo(separate.Clipped));
        }
    }

    [Test]
    public void ActionOutsideVocabularyIsRejected()
    {
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: 9);
        var x = MakeInputs(u, 3, 5);
        x.Actions[1] = 5;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RunKernel(u, x, 3, 5, 0f));
        Assert.That(e!.Message, Does.Contain("row 1"));
    }
}
