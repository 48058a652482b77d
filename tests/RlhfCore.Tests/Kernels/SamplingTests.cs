using RlhfCore.Backends;
using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// Token sampling against the rule stated in Sampling.cs and the float64 <see cref="SamplingReference"/>.
/// Token choices are compared exactly (random uniforms land within float rounding of a boundary with
/// negligible probability, and the seeds are fixed).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class SamplingTests(string device) : KernelFixture(device)
{
    private static int[] Sample(IBackend backend, KernelTestUtil u, float[] logits, float[] uniforms, int B, int V, float temperature, int topK, float topP)
    {
        var tokens = u.Upload(Enumerable.Repeat(-7, B).ToArray());
        backend.SampleTokens(tokens, u.Upload(logits, B, V), u.Upload(uniforms), B, V, temperature, topK, topP);
        return u.ReadInts(tokens);
    }

    /// <summary>Work of a radix-selecting draw: up to three selections of several 8-bit levels, each a pass over the row.</summary>
    private static long RadixSelectWork(int B, int V) => 16L * B * V;

    /// <summary>Random logits with the row maximum repeated at a few later indices, to exercise ties.</summary>
    private static float[] LogitsWithTies(KernelTestUtil u, int B, int V)
    {
        var x = u.RandomFloats((long)B * V, -4f, 4f);
        for (int b = 0; b < B; b++)
        {
            var row = new Span<float>(x, b * V, V);
            int at = u.Rng.Next(V);
            row[at] = 5f;
            for (int extra = 0; extra < 2; extra++) row[Math.Min(V - 1, at + u.Rng.Next(V - at))] = 5f;
        }
        return x;
    }

    [TestCase(97, 1025)]
    [TestCase(7, 1)]
    [TestCase(1, 50257)]
    public void GreedyIsArgmaxWithLowestIndexOnTies(int B, int V)
    {
        TinyOnCpuAccelerator((long)B * V);
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: B + V);
        var logits = LogitsWithTies(u, B, V);
        var got = Sample(backend, u, logits, u.RandomFloats(B, 0f, 1f), B, V, 0f, 0, 1f);
        for (int b = 0; b < B; b++) Assert.That(got[b], Is.EqualTo(SamplingReference.ArgMax(logits, b, V)), $"row {b}");
    }

    [Test]
    public void TopKOneIsGreedy([Values(5, 97)] int B, [Values(61, 1025)] int V)
    {
        TinyOnCpuAccelerator(RadixSelectWork(B, V));
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 12);
        var logits = LogitsWithTies(u, B, V);
        var got = Sample(backend, u, logits, u.RandomFloats(B, 0f, 1f), B, V, 0.7f, 1, 1f);
        var greedy = Sample(backend, u, logits, u.RandomFloats(B, 0f, 1f), B, V, 0f, 0, 1f);
        Assert.That(got, Is.EqualTo(greedy));
    }

    [TestCase(97, 1025, 1f, 0, 1f, 0)]
    [TestCase(97, 1025, 0.7f, 50, 1f, 0)]
    [TestCase(97, 1025, 1.3f, 0, 0.9f, 0)]
    [TestCase(97, 1025, 1f, 10, 0.5f, 0)]
    [TestCase(97, 1025, 0.5f, 1025, 0.95f, 0)]
    [TestCase(97, 1025, 1f, 0, 1f, 3)]
    [TestCase(97, 1025, 2f, 300, 0.8f, 5)]
    [TestCase(7, 97, 1f, 0, 1f, 1)]
    [TestCase(3, 97, 0.7f, 50, 1f, 0)]
    [TestCase(3, 97, 1.3f, 0, 0.9f, 0)]
    [TestCase(3, 61, 1f, 10, 0.5f, 0)]
    [TestCase(3, 97, 2f, 30, 0.8f, 5)]
    [TestCase(5, 50257, 1f, 0, 1f, 0)]
    [TestCase(5, 50257, 0.8f, 40, 0.9f, 0)]
    public void FixedUniformsPickTheReferenceToken(int B, int V, float temperature, int topK, float topP, int levels)
    {
        TinyOnCpuAccelerator(RadixSelectWork(B, V));
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 300 + topK + V);
        // levels > 0: only that many distinct logit values, so long runs of ties are walked in index order.
        var logits = levels > 0
            ? u.RandomInts((long)B * V, 0, levels).Select(i => 0.75f * i).ToArray()
            : u.RandomFloats((long)B * V, -6f, 6f);
        var uniforms = u.RandomFloats(B, 0f, 1f);
        uniforms[0] = 0f;
        uniforms[1] = 0.99999994f; // the largest float below 1
        var got = Sample(backend, u, logits, uniforms, B, V, temperature, topK, topP);
        for (int b = 0; b < B; b++)
            Assert.That(got[b], Is.EqualTo(SamplingReference.Sample(logits, b, V, temperature, topK, topP, uniforms[b])), $"row {b}, u {uniforms[b]}");
    }

    [Test]
    public void EmpiricalFrequenciesMatchTheFilteredDistribution()
    {
        const int B = 20000, V = 7;
        TinyOnCpuAccelerator(RadixSelectWork(B, V));
        const float temperature = 0.8f, topP = 0.9f;
        const int topK = 5;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 2024);
        float[] row = [0.3f, 1.5f, -0.2f, 1.5f, 0.9f, -3f, 0.1f];
        var logits = Enumerable.Range(0, B).SelectMany(_ => row).ToArray();
        var got = Sample(backend, u, logits, u.RandomFloats(B, 0f, 1f), B, V, temperature, topK, topP);

        var (kept, probs) = SamplingReference.KeptSet(row, 0, V, temperature, topK, topP);
        var counts = new int[V];
        foreach (int t in got) counts[t]++;
        for (int v = 0; v < V; v++)
            if (!kept.Contains(v)) Assert.That(counts[v], Is.Zero, $"token {v} is filtered out");
        double chi2 = 0;
        for (int j = 0; j < kept.Length; j++)
        {
            double expected = B * probs[j];
            chi2 += (counts[kept[j]] - expected) * (counts[kept[j]] - expected) / expected;
        }
        // Below 25 with kept.Length − 1 ≤ 4 degrees of freedom: a real deviation scores far higher.
        Assert.That(chi2, Is.LessThan(25), $"chi-square over kept tokens [{string.Join(", ", kept)}]");
    }

    [TestCase(0.7f, new[] { 0, 1 })]
    [TestCase(0.8f, new[] { 0, 1, 2 })]
    [TestCase(1f, new[] { 0, 1, 2, 3 })]
    public void TopPKeepsExactlyTheShortestPrefixReachingTheMass(float topP, int[] expected)
    {
        // Probabilities 1/2, 1/4, 1/8, 1/8: tokens 2 and 3 tie, so 2 ranks first.
        float[] row = [MathF.Log(4), MathF.Log(2), 0f, 0f];
        const int B = 1000, V = 4;
        TinyOnCpuAccelerator(RadixSelectWork(B, V));
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 5);
        var logits = Enumerable.Range(0, B).SelectMany(_ => row).ToArray();
        var uniforms = Enumerable.Range(0, B).Select(i => (i + 0.5f) / B).ToArray();
        var got = Sample(backend, u, logits, uniforms, B, V, 1f, 0, topP);
        Assert.That(got.Distinct().Order(), Is.EqualTo(expected));
        Assert.That(got[^1], Is.EqualTo(expected[^1]), "u near 1 picks the last kept token");
    }

    [Test]
    public void InvalidSettingsThrow()
    {
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 1);
        var tokens = u.Alloc(RlhfCore.Tensors.DType.I32, 1);
        var logits = u.Upload(new[] { 1f, 2f }, 1, 2);
        var uniforms = u.Upload(new[] { 0.5f });
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.SampleTokens(tokens, logits, uniforms, 1, 2, -1f, 0, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.SampleTokens(tokens, logits, uniforms, 1, 2, 1f, -1, 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.SampleTokens(tokens, logits, uniforms, 1, 2, 1f, 0, 0f));
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.SampleTokens(tokens, logits, uniforms, 1, 2, 1f, 0, 1.5f));
    }

    [Test]
    public void SameTokensForAnyThreadCount()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int B = 33, V = 1025;
        int[] Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var u = new KernelTestUtil(backend, seed: 77);
            return Sample(backend, u, u.RandomFloats(B * V, -3f, 3f), u.RandomFloats(B, 0f, 1f), B, V, 0.9f, 40, 0.8f);
        }
        Assert.That(Run(5), Is.EqualTo(Run(2)));
    }
}
