using RlhfCore.Optim.Telemetry;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class OptimizerStatisticsTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // Random tensors where a third of the elements did not move (previous = param) and a third of those have m = 0, so
    // sign(0) = sign(0) counts as agreement and sign(±) vs 0 does not; v spans the threshold so the fraction below it is
    // far from 0 and 1. The output row is poisoned with NaN, and its slots past KernelSlots must stay as they were.
    // Sums of squares and dot products to rtol 1e-5 (float lanes within a chunk, double across), fractions exactly.
    [TestCase(1, true, true), TestCase(7, true, false), TestCase(97, false, true), TestCase(1025, true, true), TestCase(100_003, true, true), TestCase(33, false, false)]
    public void Statistics_MatchReference(int n, bool withMomentum, bool withV)
    {
        TinyOnCpuAccelerator(n);
        const float gradScale = 0.5f, threshold = 0.3f;
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 500 + n);
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f), m = k.RandomFloats(n, -0.1f, 0.1f), v = k.RandomFloats(n, 0f, 1f);
        float[] previous = [.. param.Select((p, i) => i % 3 == 0 ? p : p + (float)(k.Rng.NextDouble() - 0.5) * 1e-2f)];
        for (int i = 0; i < n; i += 9) m[i] = 0;
        var stats = new float[OptimizerStatisticSlots.Stride];
        Array.Fill(stats, float.NaN, 0, OptimizerStatisticSlots.KernelSlots);
        Array.Fill(stats, 42f, OptimizerStatisticSlots.KernelSlots, OptimizerStatisticSlots.Stride - OptimizerStatisticSlots.KernelSlots);
        var statsT = k.Upload(stats);
        backend.OptimizerStatistics(statsT.Slice(0, OptimizerStatisticSlots.KernelSlots), k.Upload(param), k.Upload(previous), k.Upload(grad),
            withMomentum ? k.Upload(m) : RlhfCore.Tensors.Tensor.None, withV ? k.Upload(v) : RlhfCore.Tensors.Tensor.None, n, gradScale, threshold);
        var actual = k.Read(statsT);
        var expected = OptimizerStatisticsReference.Compute(D(param), D(previous), D(grad), withMomentum ? D(m) : null, withV ? D(v) : null, gradScale, threshold);
        KernelTestUtil.AssertClose(actual[..OptimizerStatisticSlots.KernelSlots], expected, 1e-6, 1e-5, "slots");
        Assert.That(actual[OptimizerStatisticSlots.KernelSlots..], Is.All.EqualTo(42f), "slots past KernelSlots are not the kernel's");
    }
}
