using RlhfCore.Rl.Preference;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Preference;

/// <summary>
/// KTO, ORPO and SimPO against <see cref="PreferenceReference"/> on random batches of odd sizes: values to 1e-12 relative,
/// gradients against central differences of the reference (h = 1e-6) to 1e-7 + 1e-6·|fd|. Summed log-probs are drawn in
/// [−30, −1] with completion lengths 1..20, so mean log-probs range over about [−30, −0.05].
/// </summary>
public class PreferenceLossTests
{
    private const double H = 1e-6;

    private sealed record Pairs(double[] C, double[] R, int[] Lc, int[] Lr);

    private static Pairs RandomPairs(int n, int seed)
    {
        var rng = new Random(seed);
        double[] Draw() => Enumerable.Range(0, n).Select(_ => -1 - 29 * rng.NextDouble()).ToArray();
        int[] Lengths() => Enumerable.Range(0, n).Select(_ => rng.Next(1, 21)).ToArray();
        return new Pairs(Draw(), Draw(), Lengths(), Lengths());
    }

    /// <summary>Central differences of f with respect to each element of x.</summary>
    private static double[] Fd(double[] x, Func<double> f)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double keep = x[i];
            x[i] = keep + H; double up = f();
            x[i] = keep - H; double down = f();
            x[i] = keep;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    private static void AssertGradient(double[] got, double[] fd, string what)
    {
        for (int i = 0; i < got.Length; i++)
            Assert.That(got[i], Is.EqualTo(fd[i]).Within(1e-7 + 1e-6 * Math.Abs(fd[i])), $"{what}[{i}]");
    }

    [Test]
    public void KtoMatchesReferenceAndFiniteDifferences([Values(1, 7, 97)] int n)
    {
        var rng = new Random(n);
        var pi = Enumerable.Range(0, n).Select(_ => -20 + 10 * rng.NextDouble()).ToArray();
        var re = pi.Select(x => x + 3 * (rng.NextDouble() - 0.5)).ToArray();
        var desirable = Enumerable.Range(0, n).Select(i => i % 3 != 1).ToArray();
        var piKl = Enumerable.Range(0, n).Select(_ => -20 + 10 * rng.NextDouble()).ToArray();
        var refKl = piKl.Select(x => x - 0.5 * rng.NextDouble()).ToArray(); // mean KL-pair log-ratio > 0
        var s = new KtoSettings(Beta: 0.3, DesirableWeight: 1.0, UndesirableWeight: 1.33);
        var got = KtoLoss.Batch(pi, re, desirable, piKl, refKl, s);
        double Ref() => PreferenceReference.Kto(pi, re, desirable, piKl, refKl, s.Beta, s.DesirableWeight, s.UndesirableWeight);
        Assert.That(got.Loss, Is.EqualTo(Ref()).Within(1e-12 * Math.Abs(Ref())));
        Assert.That(got.Kl, Is.GreaterThan(0));
        AssertGradient(got.DPolicy, Fd(pi, Ref), "dpolicy");
        AssertGradient(got.DReference, Fd(re, Ref), "dreference");
    }

    [Test]
    public void KtoReferencePointIsTheClampedBatchKl()
    {
        double[] pi = [-5, -6], re = [-5.5, -6.2];
        var s = new KtoSettings(Beta: 1);
        Assert.That(KtoLoss.Batch(pi, re, [true, false], [-3, -4], [-3.5, -4.1], s).Kl, Is.EqualTo(0.3).Within(1e-12));
        Assert.That(KtoLoss.Batch(pi, re, [true, false], [-3, -4], [-2, -3], s).Kl, Is.EqualTo(0), "a negative estimate is clamped at 0");
        Assert.That(KtoLoss.Batch(pi, re, [true, false], [], [], s).Kl, Is.EqualTo(0), "no KL pairs: z0 = 0");
    }

    [Test]
    public void KtoByHand()
    {
        // one desirable example with r = z0 = 0, β = 1: loss 1 − σ(0) = 0.5, ∂/∂π = −σ(0)(1 − σ(0)) = −0.25
        var got = KtoLoss.Batch([-2.0], [-2.0], [true], [], [], new KtoSettings(Beta: 1));
        Assert.That(got.Loss, Is.EqualTo(0.5).Within(1e-15));
        Assert.That(got.DPolicy[0], Is.EqualTo(-0.25).Within(1e-15));
        Assert.That(got.Metrics["count/chosen"], Is.EqualTo(1));
        Assert.That(got.Metrics.ContainsKey("rewards/rejected"), Is.False, "no undesirable example: no rejected mean");
    }

    [Test]
    public void KtoWithOnlyDesirableExamplesStillTrains()
    {
        var s = new KtoSettings(Beta: 0.1, DesirableWeight: 1, UndesirableWeight: 0);
        KtoLoss.CheckData(desirable: 5, undesirable: 0, s, "approvals.jsonl");
        var got = KtoLoss.Batch([-10.0, -12, -7], [-9.0, -12.5, -7.2], [true, true, true], [-11.0, -8], [-11.1, -8.3], s);
        Assert.That(got.DPolicy, Is.All.Matches<double>(g => double.IsFinite(g) && g < 0), "every desirable example is pushed up");
        Assert.That(double.IsFinite(got.Loss), Is.True);
    }

    [Test]
    public void KtoDataWithoutUndesirableExamplesIsAnError()
    {
        var e = Assert.Throws<InvalidDataException>(() => KtoLoss.CheckData(5, 0, new KtoSettings(UndesirableWeight: 0.5), "approvals.jsonl"));
        Assert.That(e!.Message, Does.Contain("approvals.jsonl").And.Contain("no undesirable").And.Contain("--undesirable-weight"));
        Assert.Throws<InvalidDataException>(() => KtoLoss.CheckData(0, 3, new KtoSettings(), "a.jsonl"));
        Assert.Throws<ArgumentOutOfRangeException>(() => KtoLoss.CheckData(1, 1, new KtoSettings(Beta: 0), "a.jsonl"));
    }

    [Test]
    public void OrpoMatchesReferenceAndFiniteDifferences([Values(1, 7, 97)] int n)
    {
        var p = RandomPairs(n, 100 + n);
        const double lambda = 0.25;
        var got = OrpoLoss.Batch(p.C, p.R, p.Lc, p.Lr, lambda);
        double Ref() => PreferenceReference.Orpo(p.C, p.R, p.Lc, p.Lr, lambda);
        Assert.That(got.Loss, Is.EqualTo(Ref()).Within(1e-12 * Math.Abs(Ref())));
        AssertGradient(got.DChosen, Fd(p.C, Ref), "dchosen");
        AssertGradient(got.DRejected, Fd(p.R, Ref), "drejected");
        Assert.That(got.Metrics.Keys, Is.SupersetOf(new[] { "rewards/chosen", "rewards/accuracies", "rewards/margins", "nll_loss", "log_odds_ratio", "log_odds_chosen" }));
    }

    [Test]
    public void OrpoWithoutTheOddsTermIsTheTokenMeanNll()
    {
        var got = OrpoLoss.Batch([-6.0, -2], [-1.0, -1], [3, 1], [2, 2], lambda: 0);
        Assert.That(got.Loss, Is.EqualTo(8.0 / 4).Within(1e-15));
        Assert.That(got.DChosen, Is.EqualTo(new[] { -0.25, -0.25 }).Within(1e-15));
        Assert.That(got.DRejected, Is.All.EqualTo(0.0));
        Assert.Throws<ArgumentException>(() => OrpoLoss.Batch([0.0], [-1.0], [1], [1], 0.1), "a probability of 1 has no odds");
    }

    [Test]
    public void SimpoMatchesReferenceAndFiniteDifferences([Values(1, 7, 97)] int n, [Values(0.0, 0.1)] double eps)
    {
        var p = RandomPairs(n, 200 + n);
        const double beta = 2.0, gamma = 0.5;
        var got = SimpoLoss.Batch(p.C, p.R, p.Lc, p.Lr, beta, gamma, eps);
        double Ref() => PreferenceReference.Simpo(p.C, p.R, p.Lc, p.Lr, beta, gamma, eps);
        Assert.That(got.Loss, Is.EqualTo(Ref()).Within(1e-12 * Math.Abs(Ref())));
        AssertGradient(got.DChosen, Fd(p.C, Ref), "dchosen");
        AssertGradient(got.DRejected, Fd(p.R, Ref), "drejected");
    }

    [Test]
    public void SimpoByHandAndLengthNormalized()
    {
        // equal mean log-probs (−6/3 = −4/2) and γ = 0: loss log 2 although the summed log-probs differ
        var got = SimpoLoss.Batch([-6.0], [-4.0], [3], [2], beta: 2, gamma: 0);
        Assert.That(got.Loss, Is.EqualTo(Math.Log(2)).Within(1e-15));
        Assert.That(got.Metrics["rewards/margins"], Is.EqualTo(0).Within(1e-15));
        // γ = 1 shifts the margin: −log σ(−1)
        Assert.That(SimpoLoss.Batch([-6.0], [-4.0], [3], [2], beta: 2, gamma: 1).Loss, Is.EqualTo(Math.Log(1 + Math.E)).Within(1e-14));
        Assert.Throws<ArgumentException>(() => SimpoLoss.Batch([-1.0], [-1.0], [0], [1], 2, 0));
    }
}
