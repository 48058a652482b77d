using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class SgdTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Every term is visible: weight decay 0.1 adds 0.1·p (|p| ≤ 1) to gradients of size ~1, momentum 0.9 on
    // a random buffer changes the step by ~0.9·|buf|, Nesterov adds μ·buf again, gradScale 0.5 halves g.
    // Each of those mistakes moves param by ≥ 1e-4 at lr 1e-2. The kernel is exact up to float rounding
    // (atol 1e-7, rtol 1e-6 on param; buf to a few ulp).
    [TestCase(1, false), TestCase(7, true), TestCase(97, false), TestCase(1025, true), TestCase(100_003, true), TestCase(100_003, false)]
    public void Update_MatchesReference(int n, bool nesterov)
    {
        const float lr = 1e-2f, momentum = 0.9f, weightDecay = 0.1f, gradScale = 0.5f;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 170 + n);
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f), buf = k.RandomFloats(n, -0.5f, 0.5f);
        var paramT = k.Upload(param);
        var bufT = k.Upload(buf);
        backend.SgdUpdate(paramT, k.Upload(grad), bufT, n, lr, momentum, weightDecay, gradScale, nesterov);

        double[] expParam = D(param), expBuf = D(buf);
        SgdReference.Update(expParam, D(grad), expBuf, lr, momentum, weightDecay, gradScale, nesterov);
        KernelTestUtil.AssertClose(k.Read(paramT), expParam, 1e-7, 1e-6, "param");
        KernelTestUtil.AssertClose(k.Read(bufT), expBuf, 1e-6, 1e-6, "buf");
    }

    // Worked by hand: p = 1, g = 2 (gradScale 1), wd = 0.5, μ = 0.5, buf = 1, lr = 0.1.
    // g' = 2 + 0.5·1 = 2.5; buf = 0.5·1 + 2.5 = 3; heavy-ball: p = 1 − 0.1·3 = 0.7;
    // Nesterov: d = 2.5 + 0.5·3 = 4, p = 1 − 0.4 = 0.6.
    [TestCase(false, 0.7f), TestCase(true, 0.6f)]
    public void OneStep_ByHand(bool nesterov, float expected)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 1);
        var p = k.Upload(new[] { 1f });
        var buf = k.Upload(new[] { 1f });
        backend.SgdUpdate(p, k.Upload(new[] { 2f }), buf, 1, 0.1f, 0.5f, 0.5f, 1f, nesterov);
        Assert.That(k.Read(p)[0], Is.EqualTo(expected).Within(1e-6f));
        Assert.That(k.Read(buf)[0], Is.EqualTo(3f).Within(1e-6f));
    }
}
