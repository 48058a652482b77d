using RlhfCore.Rl;

namespace RlhfCore.Tests.Rl;

/// <summary>Group-relative advantages under each reward scaling, by hand and against the formula; GRPO is group scaling.</summary>
public class GroupAdvantagesTests
{
    private static readonly double[] Returns = [1, 3, 5, 9];

    [Test]
    public void NoneOnlySubtractsTheGroupMean() =>
        Assert.That(GroupAdvantages.Compute(Returns, 2, RewardScaling.None), Is.EqualTo(new double[] { -1, 1, -2, 2 }));

    [Test]
    public void GroupDividesByEachGroupsStd()
    {
        // groups [1 3] and [5 9]: unbiased std √2 and √8
        var a = GroupAdvantages.Compute(Returns, 2, RewardScaling.Group);
        Assert.That(a, Is.EqualTo(new[] { -1 / (Math.Sqrt(2) + 1e-4), 1 / (Math.Sqrt(2) + 1e-4), -2 / (Math.Sqrt(8) + 1e-4), 2 / (Math.Sqrt(8) + 1e-4) }).Within(1e-12));
    }

    [Test]
    public void BatchDividesByTheBatchStd()
    {
        // mean 4.5, Σ(x − mean)² = 35, unbiased std √(35/3)
        double std = Math.Sqrt(35.0 / 3) + 1e-4;
        Assert.That(GroupAdvantages.Compute(Returns, 2, RewardScaling.Batch), Is.EqualTo(new[] { -1 / std, 1 / std, -2 / std, 2 / std }).Within(1e-12));
    }

    [Test]
    public void GroupScalingMatchesTheFormulaOnRandomGroups()
    {
        var rng = new Random(4);
        var r = Enumerable.Range(0, 35).Select(_ => rng.NextDouble() * 4 - 2).ToArray();
        var a = GroupAdvantages.Compute(r, 5, RewardScaling.Group);
        for (int g = 0; g < 35; g += 5)
        {
            var x = r[g..(g + 5)];
            double mean = x.Average(), std = Math.Sqrt(x.Sum(v => (v - mean) * (v - mean)) / 4);
            for (int i = 0; i < 5; i++) Assert.That(a[g + i], Is.EqualTo((x[i] - mean) / (std + 1e-4)).Within(1e-12));
        }
        Assert.That(SequenceAdvantages.Grpo(r, 5), Is.EqualTo(a), "GRPO is group scaling");
    }

    [Test]
    public void ParsesTheFlagAndRejectsOthers()
    {
        Assert.That(GroupAdvantages.Parse("none"), Is.EqualTo(RewardScaling.None));
        Assert.That(Assert.Throws<ArgumentException>(() => GroupAdvantages.Parse("std"))!.Message, Does.Contain("--scale-rewards: 'std'"));
        Assert.Throws<ArgumentException>(() => GroupAdvantages.Compute(Returns, 3, RewardScaling.None));
    }
}
