using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// The aggregation weights on a hand-worked batch: two sequences of T = 4 with masks [1 1 1 0] (3 tokens) and
/// [0 1 0 0] (1 token), per-token losses [1 2 3 · | · 10 · ·]. By hand: token-mean (1+2+3+10)/4 = 4;
/// seq-mean-token-sum (6 + 10)/2 = 8; seq-mean-token-mean (6/3 + 10/1)/2 = 6; seq-mean-token-sum-norm with max length 4:
/// 16/(2·4) = 2.
/// </summary>
public class LossAggregationTests
{
    private static readonly float[] Mask = [1, 1, 1, 0, 0, 1, 0, 0];
    private static readonly double[] Losses = [1, 2, 3, 99, 99, 10, 99, 99];

    [TestCase(LossAggregation.TokenMean, 4.0, new[] { 0.25, 0.25, 0.25, 0, 0, 0.25, 0, 0 })]
    [TestCase(LossAggregation.SeqMeanTokenSum, 8.0, new[] { 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 0 })]
    [TestCase(LossAggregation.SeqMeanTokenMean, 6.0, new[] { 1 / 6.0, 1 / 6.0, 1 / 6.0, 0, 0, 0.5, 0, 0 })]
    [TestCase(LossAggregation.SeqMeanTokenSumNorm, 2.0, new[] { 0.125, 0.125, 0.125, 0, 0, 0.125, 0, 0 })]
    public void HandWorkedBatch(LossAggregation mode, double loss, double[] weights)
    {
        var w = LossAggregationWeights.Compute(Mask, rows: 2, mode, maxLength: 4);
        Assert.That(w, Is.EqualTo(weights.Select(x => (float)x).ToArray()).Within(1e-7));
        Assert.That(w.Select((x, n) => x * Losses[n]).Sum(), Is.EqualTo(loss).Within(1e-6));
    }

    [Test]
    public void TokenAndSequenceLevelDiffer()
    {
        // the long sequence's tokens weigh 3× less per token under seq-mean-token-mean than under token-mean's equal share
        var tok = LossAggregationWeights.Compute(Mask, 2, LossAggregation.TokenMean, 4);
        var seq = LossAggregationWeights.Compute(Mask, 2, LossAggregation.SeqMeanTokenMean, 4);
        Assert.That(seq[5] / seq[0], Is.EqualTo(3f).Within(1e-6));
        Assert.That(tok[5] / tok[0], Is.EqualTo(1f));
    }

    [Test]
    public void AnEmptyMaskGivesZeroWeights() =>
        Assert.That(LossAggregationWeights.Compute(new float[6], 2, LossAggregation.SeqMeanTokenMean, 3), Is.All.EqualTo(0f));

    [Test]
    public void NamesRoundTripAndBadNamesAreListed()
    {
        foreach (var m in Enum.GetValues<LossAggregation>()) Assert.That(LossAggregationWeights.Parse(LossAggregationWeights.Name(m)), Is.EqualTo(m));
        var e = Assert.Throws<ArgumentException>(() => LossAggregationWeights.Parse("seq-mean"));
        Assert.That(e!.Message, Does.Contain("--loss-aggregation: 'seq-mean'").And.Contain("seq-mean-token-sum-norm"));
    }

    [Test]
    public void BadShapesAreErrors()
    {
        Assert.Throws<ArgumentException>(() => LossAggregationWeights.Compute(new float[7], 2, LossAggregation.TokenMean, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => LossAggregationWeights.Compute(Mask, 2, LossAggregation.SeqMeanTokenSumNorm, 0));
    }
}
