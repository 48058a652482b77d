using RlhfCore.Feedback;
using RlhfCore.Tests.Data;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>Where a reward run's training and held-out feedback come from.</summary>
public class RewardDataTests
{
    [Test]
    public void FractionHoldsOutASeededDisjointSubset()
    {
        using var files = new TempFiles();
        string path = files.Write("p.jsonl", string.Join("\n", Enumerable.Range(0, 50).Select(i => $"{{\"prompt\":\"p{i}\",\"chosen\":\"a\",\"rejected\":\"b\"}}")));
        var o = new RewardOptions { Data = path, EvalFraction = 0.2, Seed = 5 };
        var d = RewardData.Load(o);
        Assert.That((d.Train.Count, d.Eval.Count), Is.EqualTo((40, 10)));
        Assert.That(d.Train.Select(r => r.Prompt).Intersect(d.Eval.Select(r => r.Prompt)), Is.Empty);
        Assert.That(d.Eval.Select(r => r.Line), Is.Not.EqualTo(Enumerable.Range(41, 10)), "the held-out records are not just the file's tail");
        Assert.That(RewardData.Load(o).Eval, Is.EqualTo(d.Eval), "same seed, same split");
        Assert.That(RewardData.Load(o with { Seed = 6 }).Eval, Is.Not.EqualTo(d.Eval));
    }

    [Test]
    public void SeparateEvalFileMustHoldTheSameKind()
    {
        using var files = new TempFiles();
        string pairs = files.Write("p.jsonl", "{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}");
        string ratings = files.Write("r.jsonl", "{\"prompt\":\"p\",\"completion\":\"a\",\"rating\":1}");
        var e = Assert.Throws<ArgumentException>(() => RewardData.Load(new RewardOptions { Data = pairs, EvalData = ratings }));
        Assert.That(e!.Message, Is.EqualTo($"{ratings} holds Ratings feedback but {pairs} holds Pairs"));
        var d = RewardData.Load(new RewardOptions { Data = pairs, EvalData = pairs });
        Assert.That((d.Train.Count, d.Eval.Count), Is.EqualTo((1, 1)));
    }

    [Test]
    public void BuiltinArithmeticPrefersTheCorrectSum()
    {
        var d = RewardData.Load(new RewardOptions());
        Assert.That(d.Kind, Is.EqualTo(FeedbackKind.Pairs));
        Assert.That(d.Train.Count + d.Eval.Count, Is.EqualTo(RewardData.ArithmeticPairs));
        foreach (PreferencePair p in d.Train.Take(200))
        {
            Assert.That(RlhfCore.Data.Tasks.ArithmeticTask.GoldReward(p.Prompt, p.Chosen), Is.EqualTo(1));
            Assert.That(RlhfCore.Data.Tasks.ArithmeticTask.GoldReward(p.Prompt, p.Rejected), Is.EqualTo(0));
        }
    }
}
