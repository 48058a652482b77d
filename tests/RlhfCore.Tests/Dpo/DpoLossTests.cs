using RlhfCore.Tests.Reference;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Dpo;

/// <summary>
/// <see cref="DpoLoss"/> against the float64 reference on random pairs (97 of them, log-probs of either
/// sign and size, several β and ε), the reference's hand-derived gradients against central differences, and
/// behaviour at margins where a naive formula overflows. Both are float64, so the tolerance is 1e-12 relative.
/// </summary>
public class DpoLossTests
{
    private static IEnumerable<(double Pc, double Pr, double Rc, double Rr)> RandomPairs(int seed, int count = 97)
    {
        var rng = new Random(seed);
        for (int i = 0; i < count; i++)
            yield return (-40 * rng.NextDouble(), -40 * rng.NextDouble(), -40 * rng.NextDouble(), -40 * rng.NextDouble());
    }

    private static double[] Grad(DpoPairLoss l) => [l.DLossDMargin, -l.DLossDMargin, -l.DLossDMargin, l.DLossDMargin];

    private static void Close(double actual, double expected, string what) =>
        Assert.That(actual, Is.EqualTo(expected).Within(1e-12 + 1e-12 * Math.Abs(expected)), what);

    [TestCase(0.05, 0.0)]
    [TestCase(0.1, 0.0)]
    [TestCase(0.5, 0.1)]
    [TestCase(2.0, 0.3)]
    public void SigmoidMatchesReference(double beta, double eps)
    {
        foreach (var (pc, pr, rc, rr) in RandomPairs(1 + (int)(beta * 100)))
        {
            var l = DpoLoss.Pair(DpoLossKind.Sigmoid, beta, eps, pc, pr, rc, rr);
            Close(l.Loss, DpoReference.Sigmoid(beta, eps, pc, pr, rc, rr), "loss");
            var g = Grad(l);
            var rg = DpoReference.SigmoidGrad(beta, eps, pc, pr, rc, rr);
            for (int k = 0; k < 4; k++) Close(g[k], rg[k], $"gradient {k}");
            Close(l.ChosenReward, beta * (pc - rc), "rewards/chosen");
            Close(l.RejectedReward, beta * (pr - rr), "rewards/rejected");
        }
    }

    [TestCase(0.05)]
    [TestCase(0.1)]
    [TestCase(1.0)]
    public void IpoMatchesReference(double beta)
    {
        foreach (var (pc, pr, rc, rr) in RandomPairs(7 + (int)(beta * 100)))
        {
            var l = DpoLoss.Pair(DpoLossKind.Ipo, beta, 0, pc, pr, rc, rr);
            Close(l.Loss, DpoReference.Ipo(beta, pc, pr, rc, rr), "loss");
            var g = Grad(l);
            var rg = DpoReference.IpoGrad(beta, pc, pr, rc, rr);
            for (int k = 0; k < 4; k++) Close(g[k], rg[k], $"gradient {k}");
        }
    }

    /// <summary>The oracle's hand-derived gradients agree with central differences of the oracle's losses.</summary>
    [Test]
    public void ReferenceGradientsMatchFiniteDifferences()
    {
        const double h = 1e-6, beta = 0.3, eps = 0.2;
        foreach (var (pc, pr, rc, rr) in RandomPairs(3, 11))
        {
            double[] x = [pc, pr, rc, rr];
            var sg = DpoReference.SigmoidGrad(beta, eps, pc, pr, rc, rr);
            var ig = DpoReference.IpoGrad(beta, pc, pr, rc, rr);
            for (int k = 0; k < 4; k++)
            {
                double[] up = (double[])x.Clone(), down = (double[])x.Clone();
                up[k] += h; down[k] -= h;
                double fdS = (DpoReference.Sigmoid(beta, eps, up[0], up[1], up[2], up[3]) - DpoReference.Sigmoid(beta, eps, down[0], down[1], down[2], down[3])) / (2 * h);
                double fdI = (DpoReference.Ipo(beta, up[0], up[1], up[2], up[3]) - DpoReference.Ipo(beta, down[0], down[1], down[2], down[3])) / (2 * h);
                Assert.That(fdS, Is.EqualTo(sg[k]).Within(1e-6 + 1e-6 * Math.Abs(sg[k])), $"sigmoid gradient {k}");
                Assert.That(fdI, Is.EqualTo(ig[k]).Within(1e-5 + 1e-6 * Math.Abs(ig[k])), $"ipo gradient {k}");
            }
        }
    }

    /// <summary>At β·h = ±2000 the naive formula overflows; the loss must stay finite and follow its asymptotes.</summary>
    [Test]
    public void ExtremeMarginsStayFinite()
    {
        var bad = DpoLoss.Pair(DpoLossKind.Sigmoid, 1, 0, -2000, 0, 0, 0);
        Assert.That(bad.Loss, Is.EqualTo(2000).Within(1e-9));
        Assert.That(bad.DLossDMargin, Is.EqualTo(-1).Within(1e-12));
        var good = DpoLoss.Pair(DpoLossKind.Sigmoid, 1, 0, 0, -2000, 0, 0);
        Assert.That(good.Loss, Is.EqualTo(0).Within(1e-300));
        Assert.That(good.DLossDMargin, Is.EqualTo(0).Within(1e-300));
        Assert.That(double.IsFinite(DpoLoss.Pair(DpoLossKind.Sigmoid, 1, 0.1, 0, -2000, 0, 0).Loss), Is.True);
    }

    /// <summary>Identical policy and reference give h = 0: DPO's loss is log 2 with gradient −β/2, IPO's is 1/(4β²).</summary>
    [Test]
    public void PolicyEqualToReference()
    {
        var l = DpoLoss.Pair(DpoLossKind.Sigmoid, 0.1, 0, -3, -5, -3, -5);
        Assert.That(l.Loss, Is.EqualTo(Math.Log(2)).Within(1e-15));
        Assert.That(l.DLossDMargin, Is.EqualTo(-0.05).Within(1e-15));
        Assert.That(DpoLoss.Pair(DpoLossKind.Ipo, 0.5, 0, -3, -5, -3, -5).Loss, Is.EqualTo(1.0).Within(1e-15));
    }
}
