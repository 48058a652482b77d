using RlhfCore.Backends.Cpu;
using RlhfCore.Tensors;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The CPU matmul (blocked GEMM and the dot-product path) against the float64 reference.
/// Tolerance per element: atol = 1e-5·√K, rtol = 1e-4, with K the length of the sum. Inputs are
/// uniform in [−1, 1), so an fp32 sum of K products drifts from the exact value like a random walk of
/// K roundings (≈ 6e-8·√K·|partial sum|, about 1e-6·√K here); the bound leaves ~10× headroom, while a
/// dropped, doubled or misplaced product is an error of order 0.1–1 and fails it.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public sealed unsafe class MatmulTests(string device) : KernelFixture(device)
{
    private const double Rtol = 1e-4;
    /// <summary>Multiply-adds that cost the CPU accelerator about as much as one elementwise element (a 32-wide tile row per thread).</summary>
    private const long MatmulWorkPerElement = 32;
    private static double Atol(int k) => 1e-5 * Math.Sqrt(Math.Max(k, 1));

    // Sizes mix 1, 7, 97 and 1025 so every edge of the 8×32 tile and of the 256-long K block is hit,
    // and both the GEMM and the dot-product forward paths (N or OC < 16) run.
    [TestCase(1, 1, 1, true)]
    [TestCase(7, 97, 1025, true)]
    [TestCase(97, 1025, 7, false)]
    [TestCase(97, 97, 1025, true)]
    [TestCase(1025, 97, 97, false)]
    [TestCase(97, 1025, 97, true)]
    [TestCase(256, 768, 1, true)]
    [TestCase(64, 513, 300, true)]
    public void Forward_MatchesReference(int N, int C, int OC, bool withBias)
    {
        TinyOnCpuAccelerator((long)N * C * OC / MatmulWorkPerElement);
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: N * 31 + C * 7 + OC);
        float[] inp = u.RandomFloats((long)N * C), w = u.RandomFloats((long)OC * C), b = u.RandomFloats(OC);
        var output = u.Poisoned(N, OC);
        backend.MatmulForward(output, u.Upload(inp, N, C), u.Upload(w, OC, C), withBias ? u.Upload(b, OC) : Tensor.None, N, C, OC);
        KernelTestUtil.AssertClose(u.Read(output), MatmulReference.Forward(inp, w, withBias ? b : null, N, C, OC), Atol(C), Rtol, "out");
    }

    [TestCase(1, 1, 1, false)]
    [TestCase(7, 97, 1025, true)]
    [TestCase(97, 1025, 7, false)]
    [TestCase(97, 7, 1025, true)]
    [TestCase(1025, 97, 97, false)]
    [TestCase(97, 1025, 97, true)]
    [TestCase(256, 768, 1, false)]
    [TestCase(256, 768, 1, true)]
    public void Backward_MatchesReference(int N, int C, int OC, bool accumulateDinp)
    {
        TinyOnCpuAccelerator(3L * N * C * OC / MatmulWorkPerElement);
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: N * 17 + C * 5 + OC + (accumulateDinp ? 1 : 0));
        float[] inp = u.RandomFloats((long)N * C), w = u.RandomFloats((long)OC * C), dout = u.RandomFloats((long)N * OC);
        float[] dinpBefore = u.RandomFloats((long)N * C), dwBefore = u.RandomFloats((long)OC * C), dbBefore = u.RandomFloats(OC);
        var dinp = accumulateDinp ? u.Upload(dinpBefore, N, C) : u.Poisoned(N, C);
        var dweight = u.Upload(dwBefore, OC, C);
        var dbias = u.Upload(dbBefore, OC);
        backend.MatmulBackward(dinp, dweight, dbias, u.Upload(dout, N, OC), u.Upload(inp, N, C), u.Upload(w, OC, C), N, C, OC, accumulateDinp);
        KernelTestUtil.AssertClose(u.Read(dinp), MatmulReference.Dinp(dout, w, accumulateDinp ? dinpBefore : null, N, C, OC), Atol(OC), Rtol, "dinp");
        KernelTestUtil.AssertClose(u.Read(dweight), MatmulReference.Dweight(dout, inp, dwBefore, N, C, OC), Atol(N), Rtol, "dweight");
        KernelTestUtil.AssertClose(u.Read(dbias), MatmulReference.Dbias(dout, dbBefore, N, OC), Atol(N), Rtol, "dbias");
    }

    [Test]
    public void Backward_SkipsNoneDinpAndDbias()
    {
        const int N = 97, C = 65, OC = 130;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 5);
        float[] inp = u.RandomFloats(N * C), w = u.RandomFloats(OC * C), dout = u.RandomFloats(N * OC), dwBefore = u.RandomFloats(OC * C);
        var dweight = u.Upload(dwBefore, OC, C);
        backend.MatmulBackward(Tensor.None, dweight, Tensor.None, u.Upload(dout, N, OC), u.Upload(inp, N, C), u.Upload(w, OC, C), N, C, OC);
        KernelTestUtil.AssertClose(u.Read(dweight), MatmulReference.Dweight(dout, inp, dwBefore, N, C, OC), Atol(N), Rtol, "dweight");
    }

    [Test]
    public void ForwardAndBackward_AreBitIdenticalAcrossRunsAndThreadCounts()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int N = 97, C = 300, OC = 517;
        float[][] first = RunAll(threads: 2, N, C, OC), again = RunAll(threads: 2, N, C, OC), other = RunAll(threads: 3, N, C, OC);
        for (int i = 0; i < first.Length; i++)
        {
            Assert.That(again[i], Is.EqualTo(first[i]).AsCollection, $"output {i}: two runs differ");
            Assert.That(other[i], Is.EqualTo(first[i]).AsCollection, $"output {i}: 2 and 3 threads differ");
        }
    }

    private static float[][] RunAll(int threads, int N, int C, int OC)
    {
        using var backend = new CpuBackend(threads);
        using var u = new KernelTestUtil(backend, seed: 11);
        var inp = u.Upload(u.RandomFloats(N * C), N, C);
        var w = u.Upload(u.RandomFloats(OC * C), OC, C);
        var b = u.Upload(u.RandomFloats(OC), OC);
        var dout = u.Upload(u.RandomFloats(N * OC), N, OC);
        var output = u.Poisoned(N, OC);
        var dinp = u.Poisoned(N, C);
        var dweight = u.Upload(u.RandomFloats(OC * C), OC, C);
        var dbias = u.Upload(u.RandomFloats(OC), OC);
        backend.MatmulForward(output, inp, w, b, N, C, OC);
        backend.MatmulBackward(dinp, dweight, dbias, dout, inp, w, N, C, OC);
        return [u.Read(output), u.Read(dinp), u.Read(dweight), u.Read(dbias)];
    }

    // A tiny shared-buffer cap forces the chunked paths (rows or columns in chunks, K in chunks of one
    // block); chunk boundaries sit on K-block boundaries, so the result must not change by a bit.
    [TestCase(97, 1025, 600, false)] // N ≥ M: A shared, chunked along M and K
    [TestCase(600, 97, 1025, true)]  // N < M: B shared, chunked along N and K
    public void Gemm_ChunkedSharedPacking_IsBitIdenticalAndCorrect(int M, int Nn, int K, bool accumulate)
    {
        CpuBackendOnly("the CPU GEMM's shared-buffer chunking");
        var backend = (CpuBackend)Backend;
        using var u = new KernelTestUtil(backend, seed: M + Nn + K);
        float[] a = u.RandomFloats((long)M * K), b = u.RandomFloats((long)Nn * K), c0 = u.RandomFloats((long)M * Nn), bias = u.RandomFloats(Nn);
        // A row-major [M, K]; B given as Bᵀ [Nn, K] (the forward layout) so both transposing packs run.
        var ta = u.Upload(a); var tb = u.Upload(b); var tbias = u.Upload(bias);
        var chunked = u.Upload(c0); var whole = u.Upload(c0);
        Gemm.Run(backend.Pool, M, Nn, K, CpuBackend.F(ta), K, 1, CpuBackend.F(tb), 1, K, CpuBackend.F(chunked), Nn, accumulate, CpuBackend.F(tbias), sharedCapFloats: 1000);
        Gemm.Run(backend.Pool, M, Nn, K, CpuBackend.F(ta), K, 1, CpuBackend.F(tb), 1, K, CpuBackend.F(whole), Nn, accumulate, CpuBackend.F(tbias));
        float[] got = u.Read(chunked);
        Assert.That(got, Is.EqualTo(u.Read(whole)).AsCollection, "chunked and unchunked differ");
        var expected = MatmulReference.Forward(a, b, bias, M, K, Nn);
        if (accumulate) for (int i = 0; i < expected.Length; i++) expected[i] += c0[i];
        KernelTestUtil.AssertClose(got, expected, Atol(K), Rtol, "C");
    }
}
