using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class ResidualTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // One float add per element: error ≤ half an ulp, so rtol 1e-7 and no atol.
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Forward_MatchesReference(int n)
    {
        TinyOnCpuAccelerator(n);
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 50 + n);
        float[] a = k.RandomFloats(n), b = k.RandomFloats(n);
        var output = k.Poisoned(n);
        backend.ResidualForward(output, k.Upload(a), k.Upload(b), n);
        KernelTestUtil.AssertClose(k.Read(output), ResidualReference.Forward(D(a), D(b)), 0, 1e-7, "out");
    }

    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Backward_Accumulates(int n)
    {
        TinyOnCpuAccelerator(n);
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 60 + n);
        float[] dinp = k.RandomFloats(n), dout = k.RandomFloats(n);
        var dinpT = k.Upload(dinp);
        backend.ResidualBackward(dinpT, k.Upload(dout), n);
        double[] expected = D(dinp);
        ResidualReference.Backward(expected, D(dout));
        KernelTestUtil.AssertClose(k.Read(dinpT), expected, 0, 1e-7, "dinp");
    }
}
