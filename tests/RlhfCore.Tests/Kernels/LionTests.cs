using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class LionTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // The update is lr·sign(c): a wrong β (β2 where β1 belongs) flips signs where m and g disagree, which
    // random m and g make common; decay 0.1 at lr 1e-2 moves p by 1e-3·|p|. Rounding can flip a sign only
    // where c is within a few ulp of 0, which random floats of this size do not produce; param to atol 1e-7.
    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025), TestCase(100_003)]
    public void Update_MatchesReference(int n)
    {
        const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.99f, weightDecay = 0.1f, gradScale = 0.5f;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 270 + n);
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f), m = k.RandomFloats(n, -0.5f, 0.5f);
        var paramT = k.Upload(param);
        var mT = k.Upload(m);
        backend.LionUpdate(paramT, k.Upload(grad), mT, n, lr, beta1, beta2, weightDecay, gradScale);

        double[] expParam = D(param), expM = D(m);
        LionReference.Update(expParam, D(grad), expM, lr, beta1, beta2, weightDecay, gradScale);
        KernelTestUtil.AssertClose(k.Read(paramT), expParam, 1e-7, 1e-6, "param");
        KernelTestUtil.AssertClose(k.Read(mT), expM, 1e-7, 1e-6, "m");
    }

    // Worked by hand, lr 0.1, wd 0.5, β1 0.5, β2 0.75, p = 1 each:
    //   m = 1, g = −3: c = 0.5 − 1.5 = −1 → p = 1 − 0.1·(−1 + 0.5) = 1.05; m = 0.75 − 0.75 = 0
    //   m = 1, g = −1: c = 0 → sign 0, p = 1 − 0.05 = 0.95; m = 0.75 − 0.25 = 0.5
    //   m = 0, g = 4:  c = 2 → p = 1 − 0.1·1.5 = 0.85; m = 1
    [Test]
    public void OneStep_ByHand()
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 1);
        var p = k.Upload(new[] { 1f, 1f, 1f });
        var m = k.Upload(new[] { 1f, 1f, 0f });
        backend.LionUpdate(p, k.Upload(new[] { -3f, -1f, 4f }), m, 3, 0.1f, 0.5f, 0.75f, 0.5f, 1f);
        Assert.That(k.Read(p), Is.EqualTo(new[] { 1.05f, 0.95f, 0.85f }).Within(1e-6f));
        Assert.That(k.Read(m), Is.EqualTo(new[] { 0f, 0.5f, 1f }).Within(1e-6f));
    }
}
