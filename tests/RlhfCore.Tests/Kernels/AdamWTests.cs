using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class AdamWTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Hyperparameters are chosen so every term is visible: eps = 1e-3 is not negligible next to √v̂ (so
    // √v̂ + eps vs √(v̂ + eps) differs), weight decay 0.1 with lr 1e-2 moves params by 1e-3·|p|, gradScale
    // 0.5 and a step of 1 or 7 change the bias corrections. Each of those mistakes moves param by ≥ 1e-5.
    // The kernel is exact up to float rounding: param and m to ~1 ulp plus the update's few-ulp error
    // times lr (atol 1e-7, rtol 1e-6); v ≥ 0 to a few ulp (atol 1e-9, rtol 1e-6).
    [TestCase(1, 1), TestCase(7, 7), TestCase(97, 1), TestCase(1025, 7), TestCase(100_003, 7)]
    public void Update_MatchesReference(int n, int step)
    {
        const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-3f, weightDecay = 0.1f, gradScale = 0.5f;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 70 + n + step);
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f);
        float[] m = step == 1 ? new float[n] : k.RandomFloats(n, -0.1f, 0.1f);
        float[] v = step == 1 ? new float[n] : k.RandomFloats(n, 0f, 1e-2f);
        var paramT = k.Upload(param);
        var mT = k.Upload(m);
        var vT = k.Upload(v);
        backend.AdamWUpdate(paramT, k.Upload(grad), mT, vT, n, lr, beta1, beta2, eps, weightDecay, gradScale, step);

        double[] expParam = D(param), expM = D(m), expV = D(v);
        AdamWReference.Update(expParam, D(grad), expM, expV, lr, beta1, beta2, eps, weightDecay, gradScale, step);
        KernelTestUtil.AssertClose(k.Read(paramT), expParam, 1e-7, 1e-6, "param");
        KernelTestUtil.AssertClose(k.Read(mT), expM, 1e-7, 1e-6, "m");
        KernelTestUtil.AssertClose(k.Read(vT), expV, 1e-9, 1e-6, "v");
    }

    [Test]
    public void StepZero_Throws()
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 8);
        var t = k.Upload(new float[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.AdamWUpdate(t, t, t, t, 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f, 0));
    }
}
