using RlhfCore.Rl;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Rl;

/// <summary>The KL estimators and the KL controller against their float64 references.</summary>
public class KlTests
{
    private static readonly KlEstimator[] Kinds = [KlEstimator.K1, KlEstimator.K2, KlEstimator.K3];

    [Test]
    public void EstimatorsMatchTheirDefinitions()
    {
        var rng = new Random(3);
        for (int i = 0; i < 997; i++)
        {
            double logp = -6 * rng.NextDouble(), refLogp = i % 7 == 0 ? logp : -6 * rng.NextDouble();
            foreach (var kind in Kinds)
            {
                double expected = KlReference.Estimate((int)kind + 1, logp, refLogp);
                double actual = Kl.Estimate(kind, logp, refLogp);
                Assert.That(actual, Is.EqualTo(expected).Within(1e-12 + 1e-9 * Math.Abs(expected)), $"{kind} at logp {logp}, ref {refLogp}");
            }
        }
    }

    [Test]
    public void K3IsAccurateWhenThePoliciesNearlyAgree()
    {
        // (r − 1) − log r loses every digit near r = 1; k3 ≈ d²/2 there.
        double d = 1e-7;
        Assert.That(Kl.Estimate(KlEstimator.K3, -1 + d, -1), Is.EqualTo(d * d / 2).Within(1e-3 * d * d / 2));
        Assert.That(Kl.Estimate(KlEstimator.K3, -3, -1), Is.GreaterThan(0));
    }

    [Test]
    public void DerivativesMatchFiniteDifferencesOfTheReference()
    {
        var rng = new Random(4);
        const double h = 1e-6;
        for (int i = 0; i < 101; i++)
        {
            double logp = -5 * rng.NextDouble(), refLogp = -5 * rng.NextDouble();
            foreach (var kind in Kinds)
            {
                int k = (int)kind + 1;
                double fd = (KlReference.Estimate(k, logp + h, refLogp) - KlReference.Estimate(k, logp - h, refLogp)) / (2 * h);
                Assert.That(Kl.Derivative(kind, logp, refLogp), Is.EqualTo(fd).Within(1e-6 + 1e-6 * Math.Abs(fd)), $"{kind}");
            }
        }
    }

    [TestCase(0.5, 6.0)]   // KL below target: β shrinks
    [TestCase(9.0, 6.0)]   // above, inside the clip
    [TestCase(60.0, 6.0)]  // far above: the error clips at +0.2
    [TestCase(0.0, 6.0)]   // zero: the error clips at −0.2
    public void AdaptiveControllerFollowsZieglerEtAl(double kl, double target)
    {
        var c = new KlController(0.2, target, horizon: 1000);
        double expected = 0.2;
        for (int i = 0; i < 3; i++)
        {
            c.Update(kl, 64);
            expected = KlReference.AdaptiveUpdate(expected, kl, target, 1000, 64);
            Assert.That(c.Value, Is.EqualTo(expected).Within(1e-15));
        }
        Assert.That(c.Value, kl > target ? Is.GreaterThan(0.2) : Is.LessThan(0.2));
    }

    [Test]
    public void FixedControllerNeverMoves()
    {
        var c = new KlController(0.05);
        c.Update(100, 64);
        c.Update(double.NaN, 64);
        Assert.That(c.Value, Is.EqualTo(0.05));
    }

    [Test]
    public void BadControllerSettingsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new KlController(-1));
        Assert.Throws<ArgumentException>(() => new KlController(0.1, target: 0));
        Assert.Throws<ArgumentException>(() => new KlController(0.1, target: 6, horizon: 0));
    }
}
