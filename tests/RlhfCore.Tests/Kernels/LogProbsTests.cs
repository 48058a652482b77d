using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// Token log-probabilities and entropy against the float64 reference. Tolerances (F32): values atol 1e-5 +
/// rtol 1e-5; gradients atol 1e-6 + rtol 1e-4. Backwards accumulate, so dlogits starts from random values.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class LogProbsTests(string device) : KernelFixture(device)
{
    private static IEnumerable<TestCaseData> Sizes() =>
        [new(1, 1), new(7, 1025), new(97, 97), new(2, 50257)];

    [TestCaseSource(nameof(Sizes))]
    public void TokenLogProbsForwardAndAccumulatingBackward(int N, int V)
    {
        TinyOnCpuAccelerator((long)N * V);
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 100 + N + V);
        var logitsHost = u.RandomFloats((long)N * V, -5f, 5f);
        var tokensHost = u.RandomInts(N, 0, V);
        var logits = u.Upload(logitsHost, N, V);
        var tokens = u.Upload(tokensHost);
        var logp = u.Poisoned(N);
        backend.TokenLogProbsForward(logp, logits, tokens, N, V);
        KernelTestUtil.AssertClose(u.Read(logp), LogProbsReference.TokenLogProbs(logitsHost, tokensHost, N, V), 1e-5, 1e-5, "logp");

        var initial = u.RandomFloats((long)N * V);
        var dlogpHost = u.RandomFloats(N);
        if (N > 1) dlogpHost[1] = 0f; // padding rows carry a zero gradient
        var dlogits = u.Upload(initial, N, V);
        backend.TokenLogProbsBackward(dlogits, u.Upload(dlogpHost), logits, tokens, N, V);
        KernelTestUtil.AssertClose(u.Read(dlogits), LogProbsReference.TokenLogProbsBackward(initial, dlogpHost, logitsHost, tokensHost, N, V), 1e-6, 1e-4, "dlogits");
    }

    [TestCaseSource(nameof(Sizes))]
    public void EntropyForwardAndAccumulatingBackward(int N, int V)
    {
        TinyOnCpuAccelerator((long)N * V);
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 200 + N + V);
        var logitsHost = u.RandomFloats((long)N * V, -5f, 5f);
        var logits = u.Upload(logitsHost, N, V);
        var entropy = u.Poisoned(N);
        backend.EntropyForward(entropy, logits, N, V);
        KernelTestUtil.AssertClose(u.Read(entropy), LogProbsReference.Entropy(logitsHost, N, V), 1e-5, 1e-5, "entropy");

        var initial = u.RandomFloats((long)N * V);
        var dentHost = u.RandomFloats(N);
        var dlogits = u.Upload(initial, N, V);
        backend.EntropyBackward(dlogits, u.Upload(dentHost), logits, N, V);
        KernelTestUtil.AssertClose(u.Read(dlogits), LogProbsReference.EntropyBackward(initial, dentHost, logitsHost, N, V), 1e-6, 1e-4, "dlogits");
    }

    [Test]
    public void UniformLogitsHaveEntropyLogV()
    {
        const int V = 1025;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 1);
        var entropy = u.Poisoned(1);
        backend.EntropyForward(entropy, u.Upload(Enumerable.Repeat(3f, V).ToArray(), 1, V), 1, V);
        Assert.That(u.Read(entropy)[0], Is.EqualTo(Math.Log(V)).Within(1e-5));
    }

    [Test]
    public void TokenOutsideVocabularyThrows()
    {
        CpuBackendOnly("ids are checked on the host (GPU kernels write NaN instead)");
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 1);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            backend.TokenLogProbsForward(u.Poisoned(2), u.Upload(u.RandomFloats(14), 2, 7), u.Upload(new[] { 3, 7 }), 2, 7));
        Assert.That(ex!.Message, Does.Contain("tokens[1] = 7"));
    }
}
