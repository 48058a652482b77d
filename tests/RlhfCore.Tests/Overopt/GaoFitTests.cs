using RlhfCore.Training.Overopt;

namespace RlhfCore.Tests.Overopt;

/// <summary>The Gao et al. fits recover known coefficients from synthetic points, and the best-of-n KL estimate meets the analytic value.</summary>
public class GaoFitTests
{
    [TestCase(GaoForm.BestOfN, 0.8, 0.3, false)]
    [TestCase(GaoForm.Rl, 0.5, 0.2, false)]
    [TestCase(GaoForm.BestOfN, 1.3, 0.45, true)]
    [TestCase(GaoForm.Rl, 0.7, 0.35, true)]
    public void Fit_RecoversAlphaAndBeta(GaoForm form, double alpha, double beta, bool intercept)
    {
        double r0 = intercept ? -0.4 : 0;
        var truth = new GaoCurve(form, alpha, beta, r0, 0, 0);
        var rng = new Random(11);
        var exact = Enumerable.Range(1, 37).Select(i => i * 0.11).Select(d => (d, truth.At(d))).ToList();
        var fit = GaoFit.Fit(form, exact, intercept);
        Assert.That(fit.Alpha, Is.EqualTo(alpha).Within(1e-9));
        Assert.That(fit.Beta, Is.EqualTo(beta).Within(1e-9));
        Assert.That(fit.Intercept, Is.EqualTo(r0).Within(1e-9));
        Assert.That(fit.Rmse, Is.LessThan(1e-9));

        // With noise of σ = 0.01 the coefficients stay within a few hundredths.
        var noisy = exact.Select(p => (p.d, p.Item2 + 0.01 * (rng.NextDouble() * 2 - 1) * Math.Sqrt(3))).ToList();
        var nf = GaoFit.Fit(form, noisy, intercept);
        Assert.That(nf.Alpha, Is.EqualTo(alpha).Within(0.05));
        Assert.That(nf.Beta, Is.EqualTo(beta).Within(0.05));
    }

    [Test]
    public void Peaks_AreWhereTheDerivativeVanishes()
    {
        var bon = new GaoCurve(GaoForm.BestOfN, 0.8, 0.2, 0, 0, 0);
        Assert.That(bon.PeakD, Is.EqualTo(2.0).Within(1e-12));
        Assert.That(bon.PeakReward, Is.EqualTo(0.8 * 0.8 / (4 * 0.2)).Within(1e-12));
        var rl = new GaoCurve(GaoForm.Rl, 0.6, 0.3, 0, 0, 0);
        Assert.That(rl.PeakD, Is.EqualTo(Math.Exp(1)).Within(1e-12));
        double h = 1e-5;
        Assert.That((rl.At(rl.PeakD + h) - rl.At(rl.PeakD - h)) / (2 * h), Is.EqualTo(0).Within(1e-6));
        Assert.That(double.IsNaN(new GaoCurve(GaoForm.Rl, 0.6, -0.1, 0, 0, 0).PeakD), "β ≤ 0 never turns");
    }

    [Test]
    public void TooFewPoints_IsAClearError()
    {
        var e = Assert.Throws<ArgumentException>(() => GaoFit.Fit(GaoForm.BestOfN, [(0.5, 0.1)]))!;
        Assert.That(e.Message, Does.Contain("at least 2 points"));
    }

    [TestCase(2)]
    [TestCase(4)]
    [TestCase(16)]
    public void BestOfNKl_OfDistinctScores_ApproachesTheAnalyticValue(int n)
    {
        var rng = new Random(n);
        var prompts = Enumerable.Range(0, 20).Select(_ => (IReadOnlyList<double>)Enumerable.Range(0, 4000).Select(_ => rng.NextDouble()).ToList()).ToList();
        Assert.That(BestOfNKl.Estimate(prompts, n), Is.EqualTo(BestOfNKl.Analytic(n)).Within(0.01 * Math.Log(n) + 0.002));
    }

    [Test]
    public void BestOfNKl_OfTiedScores_IsExactForTheDiscreteDistribution()
    {
        // Half the samples score 1, half 0: best-of-2 picks 1 with probability 3/4. KL = ¾·log(¾/½) + ¼·log(¼/½).
        IReadOnlyList<double> scores = [0, 1, 0, 1, 1, 0, 0, 1];
        double expected = 0.75 * Math.Log(1.5) + 0.25 * Math.Log(0.5);
        Assert.That(BestOfNKl.Estimate([scores], 2), Is.EqualTo(expected).Within(1e-12));
        Assert.That(BestOfNKl.Estimate([scores], 1), Is.EqualTo(0).Within(1e-12));
        Assert.That(expected, Is.LessThan(BestOfNKl.Analytic(2)), "ties make the analytic value an upper bound");
    }
}
