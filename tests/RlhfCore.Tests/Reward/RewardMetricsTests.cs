using RlhfCore.Feedback;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>Accuracy, margin and reward statistics on hand-worked batches.</summary>
public class RewardMetricsTests
{
    private static RewardBatch Batch(params RewardExample[] examples)
    {
        var b = new RewardBatch(8, 4);
        foreach (var e in examples) b.Add(e);
        return b;
    }

    private static RewardExample Ex(FeedbackKind kind, int members, double target = 0) =>
        new(kind, Enumerable.Range(0, members).Select(_ => new[] { 1 }).ToArray(), target, 0, "t");

    [Test]
    public void PairsCountChosenAboveRejected()
    {
        var m = new RewardMetrics();
        m.Add(RewardLoss.BradleyTerry, 0.5, [2, 1, 0, 3], Batch(Ex(FeedbackKind.Pairs, 2), Ex(FeedbackKind.Pairs, 2)));
        var s = m.Summary();
        Assert.That((s.Accuracy, s.Margin, s.RewardsChosen, s.RewardsRejected, s.Pairs), Is.EqualTo((0.5, -1.0, 1.0, 2.0, 2L)));
        Assert.That(s.RewardMean, Is.EqualTo(1.5));
        Assert.That(s.RewardStd, Is.EqualTo(Math.Sqrt(1.25)).Within(1e-12));
        Assert.That(s.ToMetrics("eval/").Keys, Is.EquivalentTo(new[] { "eval/loss", "eval/accuracy", "eval/margin", "eval/rewards/chosen", "eval/rewards/rejected", "eval/rewards/mean", "eval/rewards/std" }));
    }

    [Test]
    public void RankingsCountEveryOrderedPair()
    {
        var m = new RewardMetrics();
        m.Add(RewardLoss.PlackettLuce, 1, [3, 1, 2], Batch(Ex(FeedbackKind.Rankings, 3)));
        var s = m.Summary();
        Assert.That((s.Pairs, s.Accuracy), Is.EqualTo((3L, 2.0 / 3)));
    }

    [Test]
    public void RatingsAndApprovalsPairRowsByTheirTargets()
    {
        var ratings = new RewardMetrics();
        ratings.Add(RewardLoss.Regression, 1, [0.5, 2, 1], Batch(Ex(FeedbackKind.Ratings, 1, 1), Ex(FeedbackKind.Ratings, 1, 3), Ex(FeedbackKind.Ratings, 1, 1)));
        Assert.That((ratings.Summary().Pairs, ratings.Summary().Accuracy), Is.EqualTo((2L, 1.0)));

        var approvals = new RewardMetrics();
        approvals.Add(RewardLoss.Logistic, 1, [1, -1, -2], Batch(Ex(FeedbackKind.Approvals, 1, 1), Ex(FeedbackKind.Approvals, 1, 0), Ex(FeedbackKind.Approvals, 1, 1)));
        Assert.That((approvals.Summary().Pairs, approvals.Summary().Accuracy), Is.EqualTo((2L, 0.5)));
    }

    [Test]
    public void LossIsTheMeanPerGroupAcrossBatches()
    {
        var m = new RewardMetrics();
        m.Add(RewardLoss.BradleyTerry, 1.0, [1, 0, 1, 0], Batch(Ex(FeedbackKind.Pairs, 2), Ex(FeedbackKind.Pairs, 2)));
        m.Add(RewardLoss.BradleyTerry, 4.0, [1, 0], Batch(Ex(FeedbackKind.Pairs, 2)));
        Assert.That(m.Summary().Loss, Is.EqualTo(2.0));
    }
}
