using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class GradNormTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Accumulated in double, rounded to float once: rtol 1e-7 (a float accumulation over 10⁶ terms would
    // miss this by orders of magnitude, as would a dropped chunk or tail).
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003), TestCase((1 << 20) + 3)]
    public void SumOfSquares_MatchesReference(int n)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 80 + n);
        float[] x = k.RandomFloats(n);
        var result = k.Poisoned(1);
        backend.SumOfSquares(result, k.Upload(x), n);
        KernelTestUtil.AssertClose(k.Read(result), [GradNormReference.SumOfSquares(D(x))], 0, 1e-7, "sum of squares");
    }

    [Test]
    public void SumOfSquares_IsBitIdenticalForAnyThreadCount()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int n = 3_000_017;
        float? first = null;
        foreach (int threads in new[] { 1, 2, 3, 2 })
        {
            using var backend = new CpuBackend(threads);
            using var k = new KernelTestUtil(backend, seed: 9);
            var result = k.Poisoned(1);
            backend.SumOfSquares(result, k.Upload(k.RandomFloats(n, -1e3f, 1e3f)), n);
            float got = k.Read(result)[0];
            first ??= got;
            Assert.That(BitConverter.SingleToInt32Bits(got), Is.EqualTo(BitConverter.SingleToInt32Bits(first.Value)), $"{threads} threads");
        }
    }

    // One float multiply per element: rtol 1e-7, no atol.
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Scale_MatchesReference(int n)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 90 + n);
        float[] x = k.RandomFloats(n);
        var xT = k.Upload(x);
        backend.Scale(xT, 0.37f, n);
        KernelTestUtil.AssertClose(k.Read(xT), GradNormReference.Scale(D(x), 0.37f), 0, 1e-7, "x");
    }
}
