using RlhfCore.Backends.Cpu;
using RlhfCore.Tensors;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// Fused softmax + cross-entropy against the float64 reference. Tolerances (F32): losses atol 1e-5 +
/// rtol 1e-5, dlogits atol 1e-7 + rtol 1e-4 (probabilities down to 1/V).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class CrossEntropyTests(string device) : KernelFixture(device)
{
    private static int[] Targets(KernelTestUtil u, int N, int V)
    {
        var t = u.RandomInts(N, 0, V);
        for (int n = 1; n < N; n += 3) t[n] = -1; // every third row from the second is ignored
        return t;
    }

    [TestCase(1, 1, 0f)]
    [TestCase(7, 1025, 0f)]
    [TestCase(97, 97, 0f)]
    [TestCase(3, 50257, 0f)]
    [TestCase(7, 97, 1000f)]
    public void MatchesReference(int N, int V, float offset)
    {
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: N * 31 + V);
        var logitsHost = u.RandomFloats((long)N * V, offset - 4f, offset + 4f);
        var targetsHost = Targets(u, N, V);
        var weightsHost = u.RandomFloats(N, 0f, 2f);
        var losses = u.Poisoned(N);
        var dlogits = u.Poisoned(N, V);
        var logits = u.Upload(logitsHost, N, V);
        backend.CrossEntropyForwardBackward(losses, dlogits, logits, u.Upload(targetsHost), u.Upload(weightsHost), N, V);

        var (refLoss, refD) = CrossEntropyReference.ForwardBackward(logitsHost, targetsHost, weightsHost, N, V);
        KernelTestUtil.AssertClose(u.Read(losses), refLoss, 1e-5, 1e-5, "losses");
        KernelTestUtil.AssertClose(u.Read(dlogits), refD, 1e-7, 1e-4, "dlogits");
        Assert.That(u.Read(logits), Is.EqualTo(logitsHost), "logits are read-only when not aliased");
    }

    [Test]
    public void InPlaceGradientOverwritesLogits()
    {
        const int N = 7, V = 1025;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 4);
        var logitsHost = u.RandomFloats(N * V, -5f, 5f);
        var targetsHost = Targets(u, N, V);
        var weightsHost = u.RandomFloats(N, 0.5f, 1.5f);
        var losses = u.Poisoned(N);
        var logits = u.Upload(logitsHost, N, V);
        backend.CrossEntropyForwardBackward(losses, logits, logits, u.Upload(targetsHost), u.Upload(weightsHost), N, V);

        var (refLoss, refD) = CrossEntropyReference.ForwardBackward(logitsHost, targetsHost, weightsHost, N, V);
        KernelTestUtil.AssertClose(u.Read(losses), refLoss, 1e-5, 1e-5, "losses");
        KernelTestUtil.AssertClose(u.Read(logits), refD, 1e-7, 1e-4, "dlogits written over logits");
    }

    [Test]
    public void WithoutGradientOnlyLossesAreWrittenAndWeightsDefaultToOne()
    {
        const int N = 97, V = 7;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 8);
        var logitsHost = u.RandomFloats(N * V, -3f, 3f);
        var targetsHost = Targets(u, N, V);
        var losses = u.Poisoned(N);
        backend.CrossEntropyForwardBackward(losses, Tensor.None, u.Upload(logitsHost, N, V), u.Upload(targetsHost), Tensor.None, N, V);
        var (refLoss, _) = CrossEntropyReference.ForwardBackward(logitsHost, targetsHost, null, N, V);
        KernelTestUtil.AssertClose(u.Read(losses), refLoss, 1e-5, 1e-5, "losses");

        var dlogits = u.Poisoned(N, V);
        backend.CrossEntropyForwardBackward(losses, dlogits, u.Upload(logitsHost, N, V), u.Upload(targetsHost), Tensor.None, N, V);
        KernelTestUtil.AssertClose(u.Read(dlogits), CrossEntropyReference.ForwardBackward(logitsHost, targetsHost, null, N, V).DLogits, 1e-7, 1e-4, "unit-weight dlogits");
    }

    [Test]
    public void IgnoredTargetsGiveZeroLossAndZeroGradientRow()
    {
        const int N = 3, V = 97;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 2);
        var losses = u.Poisoned(N);
        var dlogits = u.Poisoned(N, V);
        backend.CrossEntropyForwardBackward(losses, dlogits, u.Upload(u.RandomFloats(N * V), N, V), u.Upload(new[] { -1, 5, -1 }), u.Upload(new[] { 1f, 1f, 1f }), N, V);
        var l = u.Read(losses);
        var d = u.Read(dlogits);
        Assert.That(new[] { l[0], l[2] }, Is.All.Zero);
        Assert.That(l[1], Is.GreaterThan(0f));
        Assert.That(d.Take(V).Concat(d.Skip(2 * V)), Is.All.Zero);
    }

    [TestCase(97)]
    [TestCase(-2)]
    public void TargetOutsideVocabularyThrowsNamingRowAndValue(int bad)
    {
        CpuBackendOnly("ids are checked on the host (GPU kernels write NaN instead)");
        const int N = 5, V = 97;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 2);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => backend.CrossEntropyForwardBackward(
            u.Poisoned(N), u.Poisoned(N, V), u.Upload(u.RandomFloats(N * V), N, V), u.Upload(new[] { 0, 1, 2, bad, -1 }), Tensor.None, N, V));
        Assert.That(ex!.Message, Does.Contain($"targets[3] = {bad}"));
    }

    [Test]
    public void BitIdenticalAcrossThreadCounts()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int N = 9, V = 5000;
        float[] Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var u = new KernelTestUtil(backend, seed: 6);
            var losses = u.Poisoned(N);
            var logits = u.Upload(u.RandomFloats(N * V, -6f, 6f), N, V);
            backend.CrossEntropyForwardBackward(losses, logits, logits, u.Upload(u.RandomInts(N, 0, V)), u.Upload(u.RandomFloats(N)), N, V);
            return [.. u.Read(losses), .. u.Read(logits)];
        }
        Assert.That(Run(5), Is.EqualTo(Run(2)));
    }
}
