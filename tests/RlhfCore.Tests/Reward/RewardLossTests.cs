using RlhfCore.Tests.Reference;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>
/// The reward losses against <see cref="RewardLossReference"/> on fresh random scores of odd sizes. Both
/// are float64, so the tolerance is tight: 1e-12 + 1e-10·|ref| (the stable and naive forms differ only
/// in rounding).
/// </summary>
public class RewardLossTests
{
    private static double[] Random(Random rng, int n, double scale = 4) => Enumerable.Range(0, n).Select(_ => (rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static void Close(double actual, double expected, string what) =>
        Assert.That(Math.Abs(actual - expected), Is.LessThanOrEqualTo(1e-12 + 1e-10 * Math.Abs(expected)), $"{what}: {actual:R} vs reference {expected:R}");

    private static void Close(ReadOnlySpan<double> actual, double[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), what);
        for (int i = 0; i < expected.Length; i++) Close(actual[i], expected[i], $"{what}[{i}]");
    }

    [TestCase(1), TestCase(7), TestCase(97)]
    public void BradleyTerryWithMarginMatchesReference(int G)
    {
        var rng = new Random(G);
        var scores = Random(rng, 2 * G);
        var margins = Random(rng, G, 1).Select(m => Math.Abs(m)).ToArray();
        margins[0] = 0;
        var grad = new double[2 * G];
        double loss = RewardLosses.BradleyTerry(scores, margins, grad);
        var (refLoss, refGrad) = RewardLossReference.BradleyTerry(
            scores.Where((_, i) => i % 2 == 0).ToArray(), scores.Where((_, i) => i % 2 == 1).ToArray(), margins);
        Close(loss, refLoss, "loss");
        Close(grad, refGrad, "grad");
    }

    [TestCase(1), TestCase(7), TestCase(33)]
    public void PlackettLuceMatchesReference(int G)
    {
        var rng = new Random(100 + G);
        var rankings = Enumerable.Range(0, G).Select(_ => Random(rng, rng.Next(2, 8))).ToArray();
        var (scores, starts, sizes) = Flatten(rankings);
        var grad = new double[scores.Length];
        Array.Fill(grad, double.NaN); // the loss must overwrite every element
        double loss = RewardLosses.PlackettLuce(scores, starts, sizes, grad);
        var (refLoss, refGrad) = RewardLossReference.PlackettLuce(rankings);
        Close(loss, refLoss, "loss");
        Close(grad, refGrad.SelectMany(g => g).ToArray(), "grad");
    }

    [Test]
    public void PlackettLuceOfTwoIsBradleyTerry()
    {
        var rng = new Random(5);
        var scores = Random(rng, 14);
        int[] starts = Enumerable.Range(0, 7).Select(g => 2 * g).ToArray(), sizes = Enumerable.Repeat(2, 7).ToArray();
        double[] gPl = new double[14], gBt = new double[14];
        Close(RewardLosses.PlackettLuce(scores, starts, sizes, gPl), RewardLosses.BradleyTerry(scores, new double[7], gBt), "loss");
        Close(gPl, gBt, "grad");
    }

    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025)]
    public void RegressionMatchesReference(int N)
    {
        var rng = new Random(200 + N);
        double[] scores = Random(rng, N), targets = Random(rng, N, 10), grad = new double[N];
        double loss = RewardLosses.Regression(scores, targets, grad);
        var (refLoss, refGrad) = RewardLossReference.Regression(scores, targets);
        Close(loss, refLoss, "loss");
        Close(grad, refGrad, "grad");
    }

    [TestCase(1), TestCase(7), TestCase(97), TestCase(1025)]
    public void LogisticMatchesReference(int N)
    {
        var rng = new Random(300 + N);
        double[] scores = Random(rng, N, 6), labels = Enumerable.Range(0, N).Select(_ => (double)rng.Next(2)).ToArray(), grad = new double[N];
        double loss = RewardLosses.Logistic(scores, labels, grad);
        var (refLoss, refGrad) = RewardLossReference.Logistic(scores, labels);
        Close(loss, refLoss, "loss");
        Close(grad, refGrad, "grad");
    }

    [TestCase(1), TestCase(7), TestCase(33)]
    public void CenteringMatchesReference(int G)
    {
        var rng = new Random(400 + G);
        var groups = Enumerable.Range(0, G).Select(_ => Random(rng, rng.Next(1, 6))).ToArray();
        var (scores, starts, sizes) = Flatten(groups);
        var grad = Random(rng, scores.Length); // centering accumulates onto the main loss's gradient
        var before = (double[])grad.Clone();
        double loss = RewardLosses.Centering(scores, starts, sizes, 0.37, grad);
        var (refLoss, refGrad) = RewardLossReference.Centering(groups, 0.37);
        Close(loss, refLoss, "loss");
        Close(grad.Zip(before, (a, b) => a - b).ToArray(), refGrad.SelectMany(g => g).ToArray(), "grad");
    }

    [Test]
    public void CenteringOnPairsIsTrlsTerm()
    {
        // TRL: loss += c · mean((r_chosen + r_rejected)²)
        double[] scores = [1.5, -0.5, 2, 1], grad = new double[4];
        double loss = RewardLosses.Centering(scores, [0, 2], [2, 2], 0.01, grad);
        Close(loss, 0.01 * (1.0 * 1.0 + 3.0 * 3.0) / 2, "loss");
    }

    [Test]
    public void LossesStayFiniteAtExtremeScores()
    {
        double[] scores = [-800, 800, 800, -800], grad = new double[4];
        Assert.That(RewardLosses.BradleyTerry(scores, [0, 0], grad), Is.EqualTo(800).Within(1e-9));
        Assert.That(grad, Is.EqualTo(new[] { -0.5, 0.5, 0, 0 }).Within(1e-12));
        Assert.That(double.IsFinite(RewardLosses.PlackettLuce(scores, [0], [4], grad)));
        Assert.That(grad.All(double.IsFinite));
        Assert.That(RewardLosses.Logistic(scores, [1, 0, 1, 0], grad), Is.EqualTo(400).Within(1e-9));
        Assert.That(grad, Is.EqualTo(new[] { -0.25, 0.25, 0, 0 }).Within(1e-12));
    }

    [Test]
    public void NonFiniteScoresGiveNonFiniteLosses()
    {
        // The trainer skips a step on a non-finite loss; a NaN score must never turn into a finite one.
        double[] grad = new double[2];
        Assert.That(double.IsFinite(RewardLosses.BradleyTerry([double.NaN, 0], [0], grad)), Is.False);
        Assert.That(double.IsFinite(RewardLosses.Regression([double.NaN, 0], [0, 0], grad)), Is.False);
        Assert.That(double.IsFinite(RewardLosses.Logistic([double.NaN, 0], [1, 0], grad)), Is.False);
        Assert.That(double.IsFinite(RewardLosses.PlackettLuce([double.NaN, 0], [0], [2], grad)), Is.False);
    }

    private static (double[] Scores, int[] Starts, int[] Sizes) Flatten(double[][] groups)
    {
        var starts = new int[groups.Length];
        for (int g = 1; g < groups.Length; g++) starts[g] = starts[g - 1] + groups[g - 1].Length;
        return (groups.SelectMany(x => x).ToArray(), starts, groups.Select(x => x.Length).ToArray());
    }
}
