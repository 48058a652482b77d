using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class GatherRowsTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // A gather is a copy: exact (atol 0, rtol 0).
    [TestCase(1, 1, 1), TestCase(7, 97, 13), TestCase(97, 7, 5), TestCase(1025, 97, 50), TestCase(97, 1025, 200)]
    public void Forward_CopiesRows(int M, int C, int rowsIn)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 100 + M + C);
        float[] inp = k.RandomFloats(rowsIn * C);
        int[] rows = k.RandomInts(M, 0, rowsIn);
        var output = k.Poisoned(M, C);
        backend.GatherRowsForward(output, k.Upload(inp, rowsIn, C), k.Upload(rows), M, C);
        KernelTestUtil.AssertClose(k.Read(output), GatherRowsReference.Forward(D(inp), rows, M, C), 0, 0, "out");
    }

    // Repeated rows sum up to M/rowsIn ≈ 200 float terms of size ≤ 1: atol 1e-4; a lost or doubled row is off by O(1).
    [TestCase(1, 1, 1), TestCase(7, 97, 3), TestCase(97, 7, 5), TestCase(1025, 97, 5), TestCase(97, 1025, 2)]
    public void Backward_AccumulatesRepeatedRows(int M, int C, int rowsIn)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 200 + M + C);
        float[] dinp = k.RandomFloats(rowsIn * C), dout = k.RandomFloats(M * C);
        int[] rows = k.RandomInts(M, 0, rowsIn);
        var dinpT = k.Upload(dinp, rowsIn, C);
        backend.GatherRowsBackward(dinpT, k.Upload(dout, M, C), k.Upload(rows), M, C);
        double[] expected = D(dinp);
        GatherRowsReference.Backward(expected, D(dout), rows, M, C);
        KernelTestUtil.AssertClose(k.Read(dinpT), expected, 1e-4, 1e-5, "dinp");
    }

    [Test]
    public void Backward_IsBitIdenticalForAnyThreadCount()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int M = 1025, C = 97, rowsIn = 3;
        float[]? first = null;
        foreach (int threads in new[] { 1, 2, 3 })
        {
            using var backend = new CpuBackend(threads);
            using var k = new KernelTestUtil(backend, seed: 5);
            var dinpT = k.Upload(k.RandomFloats(rowsIn * C), rowsIn, C);
            backend.GatherRowsBackward(dinpT, k.Upload(k.RandomFloats(M * C), M, C), k.Upload(k.RandomInts(M, 0, rowsIn)), M, C);
            float[] got = k.Read(dinpT);
            if (first == null) first = got;
            else Assert.That(got, Is.EqualTo(first), $"{threads} threads differ bitwise from 1 thread");
        }
    }

    [TestCase(-1), TestCase(4), TestCase(int.MaxValue)]
    public void IndexOutOfRange_ThrowsNamingTheIndex_AndWritesNothing(int bad)
    {
        CpuBackendOnly("ids are checked on the host (GPU kernels write NaN instead)");
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 6);
        const int C = 3, rowsIn = 4;
        float[] dinp = k.RandomFloats(rowsIn * C);
        var dinpT = k.Upload(dinp, rowsIn, C);
        var rows = k.Upload([0, 3, bad, 1]);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => backend.GatherRowsForward(k.Poisoned(4, C), k.Upload(dinp, rowsIn, C), rows, 4, C));
        Assert.That(ex!.ParamName, Is.EqualTo("rows"));
        Assert.That(ex.Message, Does.Contain($"rows[2] = {bad}"));

        ex = Assert.Throws<ArgumentOutOfRangeException>(() => backend.GatherRowsBackward(dinpT, k.Upload(k.RandomFloats(4 * C), 4, C), rows, 4, C));
        Assert.That(ex!.Message, Does.Contain($"rows[2] = {bad}"));
        Assert.That(k.Read(dinpT), Is.EqualTo(dinp), "backward must validate before accumulating anything");
    }
}
