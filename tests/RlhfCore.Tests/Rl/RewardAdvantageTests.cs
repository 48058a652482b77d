using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// The whole reward → advantage path (score adjustments, per-token KL rewards, GAE on the backend with
/// whitening from the kernel's moments; RLOO and GRPO baselines) against a hand-worked example and the
/// float64 references.
/// </summary>
public class RewardAdvantageTests
{
    [Test]
    public void HandWorkedExample()
    {
        // Prompt of 2 tokens, response of 3, padded to T = 6. Response tokens sit on rows 1, 2, 3.
        var r = new RolloutBatch([""], [[1, 2]], [new GeneratedSequence([3, 4, 5], true)], [""], 6);
        Assert.That(r.Mask, Is.EqualTo(new float[] { 0, 1, 1, 1, 0, 0 }));
        Assert.That(r.Actions, Is.EqualTo(new[] { 0, 3, 4, 5, 0, 0 }));
        float[] logp = [-1.0f, -0.5f, -2.0f], refLogp = [-1.2f, -0.5f, -1.5f], values = [0.5f, 0.4f, 0.8f];
        for (int j = 0; j < 3; j++) { r.Logp[1 + j] = logp[j]; r.RefLogp[1 + j] = refLogp[j]; r.Values[1 + j] = values[j]; }

        // k1: KL = logp − ref = (0.2, 0, −0.5); β = 0.1 → (−0.02, 0, 0.05); the score 1 is added at the last token.
        var rewards = RewardShaping.TokenRewards(r, [1.0], RewardShaping.TokenKl(r, KlEstimator.K1), 0.1, klInReward: true, whiten: false);
        Assert.That(rewards, Is.EqualTo(new[] { 0f, -0.02f, 0f, 1.05f, 0f, 0f }).Within(1e-6));

        // γ = 1, λ = 0.9: δ = (−0.02 + 0.4 − 0.5, 0 + 0.8 − 0.4, 1.05 − 0.8) = (−0.12, 0.4, 0.25);
        // A₂ = 0.25, A₁ = 0.4 + 0.9·0.25 = 0.625, A₀ = −0.12 + 0.9·0.625 = 0.4425; returns = A + V.
        using var be = new CpuBackend(1);
        using var gae = new GaeAdvantages(be, 1, 6);
        var (adv, ret) = gae.Run(rewards, r.Values, r.Mask, 1f, 0.9f, whiten: false);
        Assert.That(adv, Is.EqualTo(new[] { 0f, 0.4425f, 0.625f, 0.25f, 0f, 0f }).Within(1e-6));
        Assert.That(ret, Is.EqualTo(new[] { 0f, 0.9425f, 1.025f, 1.05f, 0f, 0f }).Within(1e-6));

        // Whitened: mean 1.3175/3, unbiased variance over the three tokens.
        var (white, _) = gae.Run(rewards, r.Values, r.Mask, 1f, 0.9f, whiten: true);
        double mean = 1.3175 / 3, sd = Math.Sqrt((Sq(0.4425 - mean) + Sq(0.625 - mean) + Sq(0.25 - mean)) / 2 + 1e-8);
        Assert.That(white[1..4], Is.EqualTo(new[] { (float)((0.4425 - mean) / sd), (float)((0.625 - mean) / sd), (float)((0.25 - mean) / sd) }).Within(1e-5));
        Assert.That(white[0] == 0 && white[4] == 0 && white[5] == 0);
    }

    private static double Sq(double x) => x * x;

    [TestCase(KlEstimator.K1, 1, 0.95f, 1f)]
    [TestCase(KlEstimator.K2, 7, 0.9f, 0.99f)]
    [TestCase(KlEstimator.K3, 13, 1f, 1f)]
    public void RandomRolloutsMatchTheReference(KlEstimator estimator, int B, float lambda, float gamma)
    {
        var rng = new Random(B);
        const int T = 11;
        var r = RlTestKit.RandomRollout(rng, B, T, V: 17);
        var scores = Enumerable.Range(0, B).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        const double beta = 0.07;
        var rewards = RewardShaping.TokenRewards(r, scores, RewardShaping.TokenKl(r, estimator), beta, klInReward: true, whiten: false);
        using var be = new CpuBackend(2);
        using var gae = new GaeAdvantages(be, B, T);
        var (adv, ret) = gae.Run(rewards, r.Values, r.Mask, gamma, lambda, whiten: true);

        var refAdv = new double[B][];
        var refRet = new double[B][];
        for (int b = 0; b < B; b++)
        {
            var s = Response(r, b, scores[b]);
            var (a, rt) = PpoTrainerReference.Gae(PpoTrainerReference.Rewards(s, beta, (int)estimator + 1), s.Values, gamma, lambda);
            refAdv[b] = a;
            refRet[b] = rt;
        }
        refAdv = PpoTrainerReference.Whiten(refAdv);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < r.ResponseLengths[b]; j++)
            {
                int n = b * T + r.PromptLengths[b] - 1 + j;
                Assert.That(adv[n], Is.EqualTo(refAdv[b][j]).Within(1e-4 + 1e-4 * Math.Abs(refAdv[b][j])), $"advantage of sequence {b} token {j}");
                Assert.That(ret[n], Is.EqualTo(refRet[b][j]).Within(1e-5 + 1e-5 * Math.Abs(refRet[b][j])), $"return of sequence {b} token {j}");
            }
        for (int n = 0; n < adv.Length; n++)
            if (r.Mask[n] == 0) Assert.That(adv[n] == 0 && ret[n] == 0, $"padding row {n}");
    }

    private static PpoTrainerReference.Sequence Response(RolloutBatch r, int b, double score)
    {
        int start = b * r.T + r.PromptLengths[b] - 1, R = r.ResponseLengths[b];
        double[] Take(float[] x) => x.Skip(start).Take(R).Select(v => (double)v).ToArray();
        return new(Take(r.Logp), Take(r.RefLogp), Take(r.Values), score);
    }

    [Test]
    public void ScoresGetTheMissingEosPenaltyAndClipping()
    {
        var s = RewardShaping.AdjustScores([2.0, 0.5, -7.0], [true, false, false], eosStops: true, missingEosPenalty: 1.0, clip: 3.0);
        Assert.That(s, Is.EqualTo(new[] { 2.0, -0.5, -3.0 }));
        var noEos = RewardShaping.AdjustScores([2.0, 0.5], [false, false], eosStops: false, missingEosPenalty: 1.0, clip: 0);
        Assert.That(noEos, Is.EqualTo(new[] { 2.0, 0.5 }), "no EOS token configured: nothing to penalize");
    }

    [Test]
    public void RewardWhiteningKeepsTheMean()
    {
        var r = RlTestKit.RandomRollout(new Random(5), 6, 9, 11);
        var scores = new[] { 1.0, -2, 3, 0.5, 0, 4 };
        var kl = RewardShaping.TokenKl(r, KlEstimator.K1);
        var plain = RewardShaping.TokenRewards(r, scores, kl, 0.1, true, whiten: false).Select(v => (double)v).ToArray();
        var white = RewardShaping.TokenRewards(r, scores, kl, 0.1, true, whiten: true).Select(v => (double)v).ToArray();
        var (m0, v0) = RewardShaping.MaskedMoments(plain, r.Mask);
        var (m1, v1) = RewardShaping.MaskedMoments(white, r.Mask);
        Assert.That(m1, Is.EqualTo(m0).Within(1e-5));
        Assert.That(v1, Is.EqualTo(1).Within(1e-4));
        Assert.That(v0, Is.Not.EqualTo(1).Within(1e-2));
    }

    [Test]
    public void RlooAndGrpoMatchTheReference()
    {
        var rng = new Random(6);
        foreach (int k in new[] { 2, 3, 5 })
        {
            var R = Enumerable.Range(0, 7 * k).Select(_ => rng.NextDouble() * 6 - 3).ToArray();
            Assert.That(SequenceAdvantages.Rloo(R, k), Is.EqualTo(PpoTrainerReference.Rloo(R, k)).Within(1e-12));
            Assert.That(SequenceAdvantages.Grpo(R, k), Is.EqualTo(PpoTrainerReference.Grpo(R, k)).Within(1e-9));
        }
        Assert.Throws<ArgumentException>(() => SequenceAdvantages.Rloo([1, 2, 3], 2));
    }

    [Test]
    public void SequenceAdvantagesSpreadOverTheirResponseTokens()
    {
        var r = RlTestKit.RandomRollout(new Random(8), 4, 8, 9);
        var rewards = new float[r.Mask.Length];
        for (int b = 0; b < r.B; b++) rewards[r.LastActionRow(b)] = b + 1;
        var R = SequenceAdvantages.Returns(r, rewards);
        Assert.That(R, Is.EqualTo(new double[] { 1, 2, 3, 4 }));
        var a = SequenceAdvantages.Spread(r, R);
        for (int n = 0; n < a.Length; n++) Assert.That(a[n], Is.EqualTo(r.Mask[n] * (n / r.T + 1)));
    }
}
