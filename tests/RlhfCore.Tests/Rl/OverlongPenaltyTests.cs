using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>DAPO's soft overlong punishment with L_max 20, L_cache 4: 0 up to 16, then linear to −1 at 20.</summary>
public class OverlongPenaltyTests
{
    [TestCase(1, 0.0)]
    [TestCase(16, 0.0)]
    [TestCase(17, -0.25)]
    [TestCase(18, -0.5)]
    [TestCase(20, -1.0)]
    public void PiecewiseLinear(int length, double penalty) =>
        Assert.That(new OverlongPenalty(20, 4).At(length), Is.EqualTo(penalty).Within(1e-12));

    [Test]
    public void AppliedToScoresWithAFactor() =>
        Assert.That(new OverlongPenalty(20, 4, Factor: 2).Apply([1.0, 1.0], [10, 19]), Is.EqualTo(new[] { 1.0, -0.5 }).Within(1e-12));

    [TestCase(20, 0)]
    [TestCase(20, 21)]
    [TestCase(0, 0)]
    public void BadSettingsAreErrors(int max, int cache)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new OverlongPenalty(max, cache).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new OverlongPenalty(max, cache).At(5), "no penalty from bad settings");
    }
}
