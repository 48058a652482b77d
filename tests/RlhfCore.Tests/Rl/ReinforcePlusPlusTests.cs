using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>REINFORCE++'s returns-to-go by hand and its whitening over the global batch.</summary>
public class ReinforcePlusPlusTests
{
    [Test]
    public void ReturnsToGoByHand()
    {
        // one row, prompt row masked; per-token rewards −β·KL with the score 1 added at the last token; γ = 0.5:
        // G₃ = 0.7, G₂ = −0.2 + 0.5·0.7 = 0.15, G₁ = −0.1 + 0.5·0.15 = −0.025
        float[] rewards = [5f, -0.1f, -0.2f, 0.7f], mask = [0, 1, 1, 1];
        var g = ReinforcePlusPlus.ReturnsToGo(rewards, mask, rows: 1, gamma: 0.5);
        Assert.That(g, Is.EqualTo(new[] { 0, -0.025, 0.15, 0.7 }).Within(1e-7));
    }

    [Test]
    public void MatchesGaeWithZeroValuesAndLambdaOne()
    {
        var rng = new Random(8);
        const int B = 3, T = 9;
        var rewards = Enumerable.Range(0, B * T).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var mask = Enumerable.Range(0, B * T).Select(n => n % T >= 2 && n % T < 2 + 3 * (n / T + 1) - 1 ? 1f : 0f).ToArray();
        var (adv, _, _) = Reference.GaeReference.Run(rewards.Select(x => (double)x).ToArray(), new double[B * T], mask.Select(x => (double)x).ToArray(), B, T, 0.9, 1.0);
        Assert.That(ReinforcePlusPlus.ReturnsToGo(rewards, mask, B, 0.9), Is.EqualTo(adv).Within(1e-9));
    }

    [Test]
    public void AdvantagesAreWhitenedOverTheWholeBatchNotPerSequence()
    {
        // row 0 has high returns, row 1 low: global whitening leaves row means apart (per-row would centre both at 0)
        double[] toGo = [0, 3, 4, 5, 0, -1, -2, 0];
        float[] mask = [0, 1, 1, 1, 0, 1, 1, 0];
        var a = ReinforcePlusPlus.Advantages(toGo, mask);
        var on = a.Where((_, n) => mask[n] != 0).Select(x => (double)x).ToArray();
        double mean = on.Average(), var = on.Sum(x => (x - mean) * (x - mean)) / (on.Length - 1);
        Assert.That(mean, Is.EqualTo(0).Within(1e-6));
        Assert.That(var, Is.EqualTo(1).Within(1e-5));
        Assert.That(a[1] + a[2] + a[3], Is.GreaterThan(0.5));
        Assert.That(a[0], Is.EqualTo(0f));
        Assert.That(a[7], Is.EqualTo(0f));
    }
}
