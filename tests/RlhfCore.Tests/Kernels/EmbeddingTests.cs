using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class EmbeddingTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Forward is one float add per element: error ≤ half an ulp of the result, so rtol 1e-7 and no atol.
    [TestCase(1, 1), TestCase(7, 97), TestCase(97, 7), TestCase(97, 1025), TestCase(1025, 97)]
    public void Forward_MatchesReference(int N, int C)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 1000 + N * 7 + C);
        const int V = 37, maxT = 11;
        float[] wte = k.RandomFloats(V * C), wpe = k.RandomFloats(maxT * C);
        int[] tokens = k.RandomInts(N, 0, V), positions = k.RandomInts(N, 0, maxT);
        var output = k.Poisoned(N, C);
        backend.EmbeddingForward(output, k.Upload(tokens), k.Upload(positions), k.Upload(wte, V, C), k.Upload(wpe, maxT, C), N, C);
        KernelTestUtil.AssertClose(k.Read(output), EmbeddingReference.Forward(tokens, positions, D(wte), D(wpe), N, C), 0, 1e-7, "out");
    }

    // Backward sums up to N/V ≈ 200 terms of size ≤ 1 per element in float: atol 1e-4 covers that rounding,
    // while a dropped or doubled row is off by O(1). dwte/dwpe start random to check they accumulate.
    [TestCase(1, 1), TestCase(7, 97), TestCase(97, 7), TestCase(97, 1025), TestCase(1025, 97)]
    public void Backward_AccumulatesLikeReference(int N, int C)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 2000 + N * 7 + C);
        const int V = 5, maxT = 3; // few ids, so nearly every row repeats one
        float[] dwte = k.RandomFloats(V * C), dwpe = k.RandomFloats(maxT * C), dout = k.RandomFloats(N * C);
        int[] tokens = k.RandomInts(N, 0, V), positions = k.RandomInts(N, 0, maxT);
        var dwteT = k.Upload(dwte, V, C);
        var dwpeT = k.Upload(dwpe, maxT, C);
        backend.EmbeddingBackward(dwteT, dwpeT, k.Upload(dout, N, C), k.Upload(tokens), k.Upload(positions), N, C);
        double[] expWte = D(dwte), expWpe = D(dwpe);
        EmbeddingReference.Backward(expWte, expWpe, D(dout), tokens, positions, N, C);
        KernelTestUtil.AssertClose(k.Read(dwteT), expWte, 1e-4, 1e-5, "dwte");
        KernelTestUtil.AssertClose(k.Read(dwpeT), expWpe, 1e-4, 1e-5, "dwpe");
    }

    [Test]
    public void Backward_AllTokensEqual_IsBitIdenticalForAnyThreadCount()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int N = 1025, C = 97, V = 4, maxT = 1025;
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var backend = new CpuBackend(threads);
            using var k = new KernelTestUtil(backend, seed: 3);
            float[] dwte = k.RandomFloats(V * C), dwpe = k.RandomFloats(maxT * C), dout = k.RandomFloats(N * C);
            int[] tokens = Enumerable.Repeat(2, N).ToArray(), positions = Enumerable.Range(0, N).ToArray();
            var dwteT = k.Upload(dwte, V, C);
            backend.EmbeddingBackward(dwteT, k.Upload(dwpe, maxT, C), k.Upload(dout, N, C), k.Upload(tokens), k.Upload(positions), N, C);
            float[] got = k.Read(dwteT);
            double[] expected = D(dwte);
            EmbeddingReference.Backward(expected, new double[maxT * C], D(dout), tokens, positions, N, C);
            KernelTestUtil.AssertClose(got, expected, 1e-3, 1e-5, $"dwte with {threads} threads"); // 1025 terms in one row
            if (first == null) first = got;
            else Assert.That(got, Is.EqualTo(first), $"dwte with {threads} threads differs bitwise from 1 thread");
        }
    }

    [Test]
    public void TokenOutsideVocabulary_Throws()
    {
        CpuBackendOnly("ids are checked on the host (GPU kernels write NaN instead)");
        using var backend = new CpuBackend(1);
        using var k = new KernelTestUtil(backend, seed: 4);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            backend.EmbeddingForward(k.Poisoned(3, 2), k.Upload([0, 1, 5]), k.Upload([0, 1, 2]), k.Upload(k.RandomFloats(10), 5, 2), k.Upload(k.RandomFloats(6), 3, 2), 3, 2));
        Assert.That(ex!.Message, Does.Contain("tokens[2] = 5"));
    }
}
