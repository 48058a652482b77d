using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class LayerNormTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Inputs are offset from zero (in [-1, 3)) so the mean matters. Float sums over C ≤ 1025 terms give
    // relative errors of a few 1e-7 in mean and variance, which reach the O(1..3) outputs as ~1e-6: atol 1e-5,
    // rtol 1e-5 leaves margin while any formula error (eps, biased variance, missing bias) is ≥ 1e-3.
    [TestCase(1, 1), TestCase(1, 7), TestCase(7, 97), TestCase(97, 1025), TestCase(1025, 97)]
    public void Forward_MatchesReference(int N, int C)
    {
        TinyOnCpuAccelerator((long)N * C);
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 10 + N * 3 + C);
        float[] inp = k.RandomFloats(N * C, -1f, 3f), weight = k.RandomFloats(C, 0.5f, 1.5f), bias = k.RandomFloats(C);
        var output = k.Poisoned(N, C);
        var mean = k.Poisoned(N);
        var rstd = k.Poisoned(N);
        backend.LayerNormForward(output, mean, rstd, k.Upload(inp, N, C), k.Upload(weight), k.Upload(bias), N, C);
        var (expOut, expMean, expRstd) = LayerNormReference.Forward(D(inp), D(weight), D(bias), N, C);
        KernelTestUtil.AssertClose(k.Read(output), expOut, 1e-5, 1e-5, "out");
        KernelTestUtil.AssertClose(k.Read(mean), expMean, 1e-6, 1e-6, "mean");
        KernelTestUtil.AssertClose(k.Read(rstd), expRstd, 0, 1e-5, "rstd");
    }

    // Rows with variance ~3e-5, where eps = 1e-5 changes rstd by ~15%: catches a missing or misplaced eps,
    // which the O(1)-variance cases above cannot see. Outputs are still O(1): same tolerances.
    [Test]
    public void Forward_SmallVarianceRows_UseEps()
    {
        const int N = 7, C = 97;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 11);
        float[] inp = k.RandomFloats(N * C, -0.01f, 0.01f), weight = k.RandomFloats(C, 0.5f, 1.5f), bias = k.RandomFloats(C);
        var output = k.Poisoned(N, C);
        var rstd = k.Poisoned(N);
        backend.LayerNormForward(output, k.Poisoned(N), rstd, k.Upload(inp, N, C), k.Upload(weight), k.Upload(bias), N, C);
        var (expOut, _, expRstd) = LayerNormReference.Forward(D(inp), D(weight), D(bias), N, C);
        KernelTestUtil.AssertClose(k.Read(output), expOut, 1e-5, 1e-5, "out");
        KernelTestUtil.AssertClose(k.Read(rstd), expRstd, 0, 1e-5, "rstd");
    }

    // dinp: rstd·(…) of O(1) terms with row means over C in float, ~1e-6 error: atol 1e-5, rtol 1e-5.
    // dweight, dbias: sums over N ≤ 1025 rows of O(1) terms in float: atol 1e-4, rtol 1e-5.
    // All three start random, so the test also checks that they accumulate.
    [TestCase(1, 1), TestCase(1, 7), TestCase(7, 97), TestCase(97, 1025), TestCase(1025, 97)]
    public void Backward_AccumulatesLikeReference(int N, int C)
    {
        TinyOnCpuAccelerator((long)N * C);
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 20 + N * 3 + C);
        float[] inp = k.RandomFloats(N * C, -1f, 3f), weight = k.RandomFloats(C, 0.5f, 1.5f), dout = k.RandomFloats(N * C);
        float[] dinp = k.RandomFloats(N * C), dweight = k.RandomFloats(C), dbias = k.RandomFloats(C);
        var inpT = k.Upload(inp, N, C);
        var weightT = k.Upload(weight);
        var mean = k.Poisoned(N);
        var rstd = k.Poisoned(N);
        backend.LayerNormForward(k.Poisoned(N, C), mean, rstd, inpT, weightT, k.Upload(k.RandomFloats(C)), N, C);
        var dinpT = k.Upload(dinp, N, C);
        var dweightT = k.Upload(dweight);
        var dbiasT = k.Upload(dbias);
        backend.LayerNormBackward(dinpT, dweightT, dbiasT, k.Upload(dout, N, C), inpT, weightT, mean, rstd, N, C);

        double[] expDinp = D(dinp), expDweight = D(dweight), expDbias = D(dbias);
        LayerNormReference.Backward(expDinp, expDweight, expDbias, D(dout), D(inp), D(weight), N, C);
        KernelTestUtil.AssertClose(k.Read(dinpT), expDinp, 1e-5, 1e-5, "dinp");
        KernelTestUtil.AssertClose(k.Read(dweightT), expDweight, 1e-4, 1e-5, "dweight");
        KernelTestUtil.AssertClose(k.Read(dbiasT), expDbias, 1e-4, 1e-5, "dbias");
    }

    [Test]
    public void Backward_IsBitIdenticalForAnyThreadCount()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int N = 1025, C = 97; // many row chunks, so dweight/dbias combine several partial buffers
        float[][]? first = null;
        foreach (int threads in new[] { 1, 2, 3, 2 })
        {
            using var backend = new CpuBackend(threads);
            using var k = new KernelTestUtil(backend, seed: 7);
            var inp = k.Upload(k.RandomFloats(N * C, -1f, 3f), N, C);
            var weight = k.Upload(k.RandomFloats(C));
            var mean = k.Poisoned(N);
            var rstd = k.Poisoned(N);
            backend.LayerNormForward(k.Poisoned(N, C), mean, rstd, inp, weight, k.Upload(k.RandomFloats(C)), N, C);
            var dinp = k.Upload(k.RandomFloats(N * C), N, C);
            var dweight = k.Upload(k.RandomFloats(C));
            var dbias = k.Upload(k.RandomFloats(C));
            backend.LayerNormBackward(dinp, dweight, dbias, k.Upload(k.RandomFloats(N * C), N, C), inp, weight, mean, rstd, N, C);
            float[][] got = [k.Read(dinp), k.Read(dweight), k.Read(dbias), k.Read(mean), k.Read(rstd)];
            if (first == null) first = got;
            else Assert.That(got, Is.EqualTo(first), $"{threads} threads differ bitwise from 1 thread");
        }
    }
}
