using RlhfCore.Optim;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>Muon's Newton–Schulz from the backend's matmul ops: against float64, and its singular values in the documented band.</summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class NewtonSchulzTests(string device) : KernelFixture(device)
{
    // Wide, tall, a row, a column, and near-square: the wide and tall paths use different matmul ops.
    // Five float32 iterations with coefficients up to 4.8 amplify rounding to ~1e-5 of entries of size
    // ~1/√min(R, C); atol 1e-4, rtol 1e-3 still catches a wrong coefficient, step count or transposition (≥ 1e-2).
    [TestCase(7, 97), TestCase(97, 7), TestCase(1, 7), TestCase(7, 1), TestCase(1, 1), TestCase(33, 40)]
    public void Orthogonalize_MatchesReference_AndSingularValuesLieInTheBand(int rows, int cols)
    {
        var backend = Backend;
        using var k = new KernelTestUtil(backend, seed: 370 + rows * 101 + cols);
        float[] x = k.RandomFloats(rows * cols, -1f, 1f);
        var xT = k.Upload(x);
        using (var ns = new NewtonSchulz(backend, rows * cols, Math.Min(rows, cols)))
            ns.Orthogonalize(xT, rows, cols);
        var actual = k.Read(xT);

        var expected = NewtonSchulzReference.Orthogonalize(Array.ConvertAll(x, v => (double)v), rows, cols,
            NewtonSchulz.A, NewtonSchulz.B, NewtonSchulz.C, NewtonSchulz.Steps);
        KernelTestUtil.AssertClose(actual, expected, 1e-4, 1e-3, "orthogonalized");
        var sv = NewtonSchulzReference.SingularValues(Array.ConvertAll(actual, v => (double)v), rows, cols);
        Assert.That(sv[0], Is.GreaterThanOrEqualTo(NewtonSchulz.BandLow), $"smallest singular value; all: {string.Join(", ", sv.Select(s => s.ToString("F3")))}");
        Assert.That(sv[^1], Is.LessThanOrEqualTo(NewtonSchulz.BandHigh), $"largest singular value; all: {string.Join(", ", sv.Select(s => s.ToString("F3")))}");
    }
}
