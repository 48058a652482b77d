using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>DAPO's dynamic sampling: all-equal groups are dropped, the batch is refilled from later draws, never empty.</summary>
public class DynamicSamplingTests
{
    private static IReadOnlyList<double> Self(double[] g) => g;

    [Test]
    public void DropsConstantGroupsAndRefillsFromLaterDraws()
    {
        double[][][] draws =
        [
            [[1, 1, 1], [0, 1, 0], [0, 0, 0]],   // one useful group
            [[2, 2, 2], [1, 0, 0]],             // one more
            [[0.5, 0.4, 0.5], [1, 2, 3]],       // the batch fills with the first; the second is not used
        ];
        var r = DynamicSampling.Fill(3, maxDraws: 10, i => draws[i], Self);
        Assert.That(r.Groups, Is.EqualTo(new[] { draws[0][1], draws[1][1], draws[2][0] }));
        Assert.That(r.Draws, Is.EqualTo(3));
        Assert.That(r.Dropped, Is.EqualTo(3));
        Assert.That(r.Short(3), Is.False);
    }

    [Test]
    public void NoVariedGroupAfterTheDrawLimitIsOneClearError()
    {
        int calls = 0;
        var e = Assert.Throws<InvalidOperationException>(() => DynamicSampling.Fill<double[]>(4, maxDraws: 3, _ => { calls++; return [new double[] { 1, 1 }, new double[] { 0, 0 }]; }, Self));
        Assert.That(calls, Is.EqualTo(3));
        Assert.That(e!.Message, Does.Contain("none of the 6 prompt groups drawn in 3 draws"));
    }

    [Test]
    public void AShortBatchAfterTheLimitIsReturnedNotEmpty()
    {
        var r = DynamicSampling.Fill<double[]>(4, maxDraws: 2, i => i == 0 ? [new double[] { 0, 1 }] : [new double[] { 1, 1 }], Self);
        Assert.That(r.Groups, Has.Count.EqualTo(1));
        Assert.That(r.Short(4), Is.True);
    }

    [Test]
    public void NonFiniteRewardsAreRejected() =>
        Assert.Throws<ArgumentException>(() => DynamicSampling.HasVariance([0, double.NaN]));
}
