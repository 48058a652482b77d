using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// The column gather and its scatter-add against the obvious float64 loops on odd shapes: forward into a poisoned output
/// (exact: it copies), backward accumulated onto a random dinp (exact to float rounding of one add).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class GatherColumnsTests(string device) : KernelFixture(device)
{
    [Test]
    public void ForwardAndBackwardMatchTheLoops([Values(1, 7, 97)] int N, [Values(1, 7, 1025)] int V)
    {
        TinyOnCpuAccelerator((long)N * V);
        using var u = new KernelTestUtil(Backend, seed: 13 * N + V);
        var x = u.RandomFloats((long)N * V);
        var cols = u.RandomInts(N, 0, V);
        var dout = u.RandomFloats(N);
        var baseGrad = u.RandomFloats((long)N * V);
        var output = u.Poisoned(N);
        var colsT = u.Upload(cols);
        u.Backend.GatherColumnsForward(output, u.Upload(x, N, V), colsT, N, V);
        var want = Enumerable.Range(0, N).Select(n => (double)x[(long)n * V + cols[n]]).ToArray();
        KernelTestUtil.AssertClose(u.Read(output), want, 0, 0, "forward");

        var dinp = u.Upload(baseGrad, N, V);
        u.Backend.GatherColumnsBackward(dinp, u.Upload(dout), colsT, N, V);
        var wantGrad = baseGrad.Select(v => (double)v).ToArray();
        for (int n = 0; n < N; n++) wantGrad[(long)n * V + cols[n]] += dout[n];
        KernelTestUtil.AssertClose(u.Read(dinp), wantGrad, 1e-7, 1e-7, "backward accumulates");
    }

    [Test]
    public void ColumnOutsideTheRowIsRejected()
    {
        CpuBackendOnly("a GPU kernel cannot throw; it writes NaN");
        using var u = new KernelTestUtil(Backend, seed: 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => u.Backend.GatherColumnsForward(u.Poisoned(2), u.Upload(u.RandomFloats(6), 2, 3), u.Upload(new[] { 0, 3 }), 2, 3));
        Assert.That(e!.Message, Does.Contain("row 1"));
    }
}
