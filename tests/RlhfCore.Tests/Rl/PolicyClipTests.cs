using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>The clip settings' checks: one clear error naming the flag for each bad value.</summary>
public class PolicyClipTests
{
    [Test]
    public void GoodSettingsPass()
    {
        PolicyClip.Symmetric(0.2f).Validate();
        new PolicyClip(0.2f, 0.28f, 3f).Validate();
    }

    [TestCase(0.3f, 0.2f, 0f, "--clip-high 0.2 is below --clip-low 0.3")]
    [TestCase(1f, 1f, 0f, "--clip-low")]
    [TestCase(-0.1f, 0.2f, 0f, "--clip-low")]
    [TestCase(0.2f, float.NaN, 0f, "--clip-high")]
    [TestCase(0.2f, 0.2f, 1f, "--dual-clip")]
    [TestCase(0.2f, 0.2f, -3f, "--dual-clip")]
    public void BadSettingsNameTheFlag(float low, float high, float dual, string message)
    {
        var e = Assert.Catch<ArgumentException>(() => new PolicyClip(low, high, dual).Validate());
        Assert.That(e!.Message, Does.Contain(message));
    }
}
