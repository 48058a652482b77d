using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class GeluTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    /// <summary>Random x in [-6, 6) with the far tails and zero planted at the front.</summary>
    private static float[] Inputs(KernelTestUtil k, int n)
    {
        float[] x = k.RandomFloats(n, -6f, 6f);
        float[] special = [0f, -12f, 12f, -30f, 30f, -0.75f, 1e-4f];
        Array.Copy(special, x, Math.Min(n, special.Length));
        return x;
    }

    // The kernel goes through exp(−2u) (a few ulp): rtol 1e-5 absorbs that and the rounding of u itself
    // (|u| ≤ 30 here); atol 1e-6 covers cancellation where gelu or gelu' crosses zero. A wrong constant or
    // the erf form of GELU differs by ≥ 1e-4.
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Forward_MatchesReference(int n)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 30 + n);
        float[] x = Inputs(k, n);
        var output = k.Poisoned(n);
        backend.GeluForward(output, k.Upload(x), n);
        KernelTestUtil.AssertClose(k.Read(output), GeluReference.Forward(D(x)), 1e-6, 1e-5, "out");
    }

    // dinp is poisoned first: it must be overwritten, not accumulated.
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Backward_MatchesReference(int n)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 40 + n);
        float[] x = Inputs(k, n), dout = k.RandomFloats(n);
        var dinp = k.Poisoned(n);
        backend.GeluBackward(dinp, k.Upload(x), k.Upload(dout), n);
        KernelTestUtil.AssertClose(k.Read(dinp), GeluReference.Backward(D(x), D(dout)), 1e-6, 1e-5, "dinp");
    }
}
