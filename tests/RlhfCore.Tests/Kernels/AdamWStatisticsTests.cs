using RlhfCore.Optim.Telemetry;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The fused AdamW update with telemetry (<c>AdamWUpdateWithStatistics</c>): param, m and v are the plain kernel's bits,
/// and the statistics row equals a float64 computation on the host from the values around the step.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class AdamWStatisticsTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Step 7 with eps 1e-3, weight decay 0.1 and gradScale 0.5, as AdamWTests. The threshold 1e-2 lies inside the range of
    // v after the step (0.95·[0, 1e-2) + 0.05·g², g in [−1, 1)), so the fraction below it is far from 0 and 1 (checked on
    // the larger cases). The row is
    // poisoned with NaN and the slots past KernelSlots with 42, which must stay. 100,003 is four chunks of the CPU backend
    // and a tail. Sums to rtol 1e-5 as OptimizerStatisticsTests (float lanes within a chunk, double across).
    [TestCase(1), TestCase(7), TestCase(1025), TestCase(100_003)]
    public void FusedUpdate_SameBitsAsAdamW_AndStatisticsMatchFloat64(int n)
    {
        TinyOnCpuAccelerator(n);
        const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.95f, eps = 1e-3f, weightDecay = 0.1f, gradScale = 0.5f, threshold = 1e-2f;
        const int step = 7;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 900 + n);
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f), m = k.RandomFloats(n, -0.1f, 0.1f), v = k.RandomFloats(n, 0f, 1e-2f);

        var plainP = k.Upload(param);
        var plainM = k.Upload(m);
        var plainV = k.Upload(v);
        backend.AdamWUpdate(plainP, k.Upload(grad), plainM, plainV, n, lr, beta1, beta2, eps, weightDecay, gradScale, step);

        var stats = new float[OptimizerStatisticSlots.Stride];
        Array.Fill(stats, float.NaN, 0, OptimizerStatisticSlots.KernelSlots);
        Array.Fill(stats, 42f, OptimizerStatisticSlots.KernelSlots, OptimizerStatisticSlots.Stride - OptimizerStatisticSlots.KernelSlots);
        var statsT = k.Upload(stats);
        var fusedP = k.Upload(param);
        var fusedM = k.Upload(m);
        var fusedV = k.Upload(v);
        backend.AdamWUpdateWithStatistics(statsT.Slice(0, OptimizerStatisticSlots.KernelSlots), fusedP, k.Upload(grad), fusedM, fusedV, n,
            lr, beta1, beta2, eps, weightDecay, gradScale, step, threshold);

        float[] p = k.Read(fusedP), mAfter = k.Read(fusedM), vAfter = k.Read(fusedV);
        Assert.That(p, Is.EqualTo(k.Read(plainP)), "param: the fused step must leave the plain kernel's bits");
        Assert.That(mAfter, Is.EqualTo(k.Read(plainM)), "m");
        Assert.That(vAfter, Is.EqualTo(k.Read(plainV)), "v");

        var actual = k.Read(statsT);
        var expected = OptimizerStatisticsReference.Compute(D(p), D(param), D(grad), D(mAfter), D(vAfter), gradScale, threshold);
        KernelTestUtil.AssertClose(actual[..OptimizerStatisticSlots.KernelSlots], expected, 1e-6, 1e-5, "slots");
        Assert.That(actual[OptimizerStatisticSlots.KernelSlots..], Is.All.EqualTo(42f), "slots past KernelSlots are not the kernel's");
        if (n >= 1025)
            Assert.That(expected[OptimizerStatisticSlots.VBelow], Is.GreaterThan(0.05).And.LessThan(0.95), "the threshold splits v");
    }

    [Test]
    public void StepZero_Throws()
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 9);
        var t = k.Upload(new float[OptimizerStatisticSlots.KernelSlots]);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.AdamWUpdateWithStatistics(t, t, t, t, t, 4, 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, 1f, 0, 1e-16f));
    }
}
