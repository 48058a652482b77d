using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class AdafactorTests(string device) : KernelFixture(device)
{
    private static double[] D(float[] a) => Array.ConvertAll(a, v => (double)v);

    // State from a few steps in (β2 = 0.7, so the old moments and the new g² both count), clip threshold 0.5 so
    // clipping is active on random gradients (RMS(u) ≈ 1 there), ε1 = 1e-3 so its place (inside the mean, before the
    // square root) shows, weight decay 0.1 and gradScale 0.5. Rows with a wrong mean (sum instead of mean, or the
    // column means' denominator) change u by factors of √cols. param, m to atol 1e-6 + rtol 1e-5 (float rsqrt and
    // float accumulation of the column sums), the moments to rtol 1e-5. 1025 × 97 spans two of the CPU's row blocks with
    // rows left over from its groups of four; 3 × 70 001 has rows longer than a block.
    [TestCase(1, 1, false, 0f, false), TestCase(1, 7, false, 0.9f, true), TestCase(1, 1025, false, 0f, true), TestCase(1, 100_003, false, 0.9f, false),
     TestCase(1, 7, true, 0f, false), TestCase(7, 1, true, 0.9f, false), TestCase(97, 33, true, 0f, false), TestCase(97, 33, true, 0.9f, true),
     TestCase(33, 1025, true, 0f, true), TestCase(1025, 97, true, 0.9f, false), TestCase(3, 70_001, true, 0.9f, true)]
    public void Update_MatchesReference(int rows, int cols, bool factored, float beta1, bool scaleParameter)
    {
        const float lr = 1e-2f, beta2 = 0.7f, eps1 = 1e-3f, eps2 = 1e-3f, clip = 0.5f, weightDecay = 0.1f, gradScale = 0.5f;
        int n = rows * cols;
        TinyOnCpuAccelerator(n);
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 90 + rows + 3 * cols + (factored ? 1 : 0));
        float[] param = k.RandomFloats(n), grad = k.RandomFloats(n, -2f, 2f), m = k.RandomFloats(n, -0.01f, 0.01f);
        float[] row = k.RandomFloats(factored ? rows : n, 0.1f, 1f), col = k.RandomFloats(cols, 0.1f, 1f);
        var paramT = k.Upload(param);
        var rowT = k.Upload(row);
        var colT = factored ? k.Upload(col) : RlhfCore.Tensors.Tensor.None;
        var mT = beta1 > 0 ? k.Upload(m) : RlhfCore.Tensors.Tensor.None;
        backend.AdafactorUpdate(paramT, k.Upload(grad), rowT, colT, mT, rows, cols, lr, beta1, beta2, eps1, eps2, clip, weightDecay, gradScale, scaleParameter);

        double[] expParam = D(param), expRow = D(row), expCol = D(col), expM = D(m);
        AdafactorReference.Update(expParam, D(grad), expRow, factored ? expCol : null, beta1 > 0 ? expM : null, rows, cols, lr, beta1, beta2, eps1, eps2, clip,
            weightDecay, gradScale, scaleParameter);
        KernelTestUtil.AssertClose(k.Read(paramT), expParam, 1e-6, 1e-5, "param");
        KernelTestUtil.AssertClose(k.Read(rowT), expRow, 1e-9, 1e-5, factored ? "row" : "v");
        if (factored) KernelTestUtil.AssertClose(k.Read(colT), expCol, 1e-9, 1e-5, "col");
        if (beta1 > 0) KernelTestUtil.AssertClose(k.Read(mT), expM, 1e-7, 1e-5, "m");
    }

    // Worked by hand: the first step (β2 = 0, so the moments are this gradient's), ε1 = 1e-30, g = [[1, 2], [3, 4]]:
    //   row means of g²: [2.5, 12.5]; column means: [5, 10]; mean(row) = 7.5
    //   v̂ = row·col/7.5 = [[5/3, 10/3], [25/3, 50/3]];  u² = g²/v̂ = [0.6, 1.2, 1.08, 0.96], RMS(u) = √0.96
    //   d = 0.8: RMS/d = √1.5, so clipped u² = [0.4, 0.8, 0.72, 0.64]
    //   lr 0.1, decay 0.5, p = 1: p = 1 − 0.05 − 0.1·u = 0.95 − 0.1·[√0.4, √0.8, √0.72, 0.8]
    [Test]
    public void FirstFactoredStep_ByHand()
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 1);
        var p = k.Upload(new[] { 1f, 1f, 1f, 1f });
        var row = k.Upload(new[] { 0f, 0f });
        var col = k.Upload(new[] { 0f, 0f });
        backend.AdafactorUpdate(p, k.Upload(new[] { 1f, 2f, 3f, 4f }), row, col, RlhfCore.Tensors.Tensor.None, 2, 2, 0.1f, 0f, 0f, 1e-30f, 1e-3f, 0.8f, 0.5f, 1f, false);
        double[] expected = [0.95 - 0.1 * Math.Sqrt(0.4), 0.95 - 0.1 * Math.Sqrt(0.8), 0.95 - 0.1 * Math.Sqrt(0.72), 0.95 - 0.08];
        Assert.That(k.Read(p), Is.EqualTo(expected.Select(x => (float)x).ToArray()).Within(1e-6f));
        Assert.That(k.Read(row), Is.EqualTo(new[] { 2.5f, 12.5f }).Within(1e-5f));
        Assert.That(k.Read(col), Is.EqualTo(new[] { 5f, 10f }).Within(1e-5f));
    }

    // Worked by hand, unfactored with the first moment: v = 0 → v = g² = [9, 16] (β2 = 0), u = sign(g) = [1, −1], RMS 1
    // (no clip at d = 1); α = 0.1; m = 0.9·[0.5, 0] + 0.1·0.1·u = [0.46, −0.01]; p = 2 − m = [1.54, 2.01].
    [Test]
    public void UnfactoredStepWithFirstMoment_ByHand()
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 1);
        var p = k.Upload(new[] { 2f, 2f });
        var v = k.Upload(new[] { 0f, 0f });
        var m = k.Upload(new[] { 0.5f, 0f });
        backend.AdafactorUpdate(p, k.Upload(new[] { 3f, -4f }), v, RlhfCore.Tensors.Tensor.None, m, 1, 2, 0.1f, 0.9f, 0f, 1e-30f, 1e-3f, 1f, 0f, 1f, false);
        Assert.That(k.Read(m), Is.EqualTo(new[] { 0.46f, -0.01f }).Within(1e-6f));
        Assert.That(k.Read(p), Is.EqualTo(new[] { 1.54f, 2.01f }).Within(1e-6f));
        Assert.That(k.Read(v), Is.EqualTo(new[] { 9f, 16f }).Within(1e-5f));
    }

    [Test]
    public void SameBitsForAnyThreadCount()
    {
        CpuBackendOnly("the thread-count independence of the CPU chunking");
        const int rows = 300, cols = 257;
        float[] Run(int threads)
        {
            using var be = new CpuBackend(threads);
            using var k = new KernelTestUtil(be, seed: 4);
            var p = k.Upload(k.RandomFloats(rows * cols));
            var g = k.Upload(k.RandomFloats(rows * cols));
            var row = k.Upload(k.RandomFloats(rows, 0.1f, 1f));
            var col = k.Upload(k.RandomFloats(cols, 0.1f, 1f));
            be.AdafactorUpdate(p, g, row, col, RlhfCore.Tensors.Tensor.None, rows, cols, 1e-2f, 0f, 0.5f, 1e-30f, 1e-3f, 1f, 0.1f, 1f, true);
            return k.Read(p);
        }
        Assert.That(Run(1), Is.EqualTo(Run(3)));
    }
}
