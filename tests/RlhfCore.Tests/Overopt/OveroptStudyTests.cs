using RlhfCore.Data.Tasks;
using RlhfCore.Tests.IO;
using RlhfCore.Training.BestOfN;
using RlhfCore.Training.Overopt;

namespace RlhfCore.Tests.Overopt;

/// <summary>The study's bookkeeping on hand-made samples: best of the first n by the proxy, gold of the choice, both KLs, fits and files.</summary>
public class OveroptStudyTests
{
    private static readonly ArithmeticGoldTask Arithmetic = new();

    private static Completion C(string prompt, string text) => new(prompt, [], [], text, true);

    [Test]
    public void BestOfNPoints_ChooseByTheProxy_AndScoreTheChoiceByGold()
    {
        // Prompt 1: the proxy likes "3" (right) most; prompt 2: the proxy prefers the wrong "5" over the right "4".
        var result = new BestOfNResult(4,
        [
            new BestOfNPrompt("1+2=", [C("1+2=", "9"), C("1+2=", "3"), C("1+2=", "7"), C("1+2=", "3")], [0.1, 0.8, 0.3, 0.8]),
            new BestOfNPrompt("2+2=", [C("2+2=", "1"), C("2+2=", "4"), C("2+2=", "5"), C("2+2=", "6")], [0.2, 0.5, 0.9, 0.0]),
        ], "proxy");
        var points = OveroptStudy.BestOfNPoints(result, Arithmetic, [1, 2, 4]);
        Assert.That(points.Select(p => p.N), Is.EqualTo(new[] { 1, 2, 4 }));
        Assert.That(points[0].Proxy, Is.EqualTo((0.1 + 0.2) / 2).Within(1e-12));
        Assert.That(points[0].Gold, Is.EqualTo(0.0), "the first samples are both wrong");
        Assert.That(points[1].Proxy, Is.EqualTo((0.8 + 0.5) / 2).Within(1e-12));
        Assert.That(points[1].Gold, Is.EqualTo(Arithmetic.GoldReward("1+2=", "3") / 2 + Arithmetic.GoldReward("2+2=", "4") / 2).Within(1e-12));
        Assert.That(points[2].Gold, Is.EqualTo(Arithmetic.GoldReward("1+2=", "3") / 2).Within(1e-12), "best of 4 picks the proxy's wrong favourite for 2+2");
        Assert.That(points.Select(p => p.KlAnalytic), Is.EqualTo(new[] { 0, BestOfNKl.Analytic(2), BestOfNKl.Analytic(4) }));
        Assert.That(points[0].Kl, Is.EqualTo(0).Within(1e-12));
        Assert.That(points[2].Kl, Is.LessThanOrEqualTo(points[2].KlAnalytic + 1e-12), "a tie (two 0.8s) keeps the estimate under the analytic bound");

        using var dir = new TempDir();
        string curve = dir.File("curve.csv");
        File.WriteAllText(curve, "round,step,kl,reward_model_score,gold_score,disagreement\n1,0,0.5,0.4,0.2,\n1,1,1.5,0.6,0.3,\n2,0,3,0.9,0.25,0.1\n");
        points.AddRange(OveroptStudy.ReadCurve(curve));
        var fits = OveroptStudy.Fit(points);
        Assert.That(fits.RlGold, Is.Not.Null);
        Assert.That(fits.RlGold!.Points, Is.EqualTo(3));
        OveroptStudy.Write(dir.Path, points, fits, "proxy");
        Assert.That(File.ReadAllText(dir.File("overopt.json")), Does.Contain("\"bestOfN\"").And.Contain("\"alpha\""));
        Assert.That(File.ReadAllLines(dir.File("overopt.csv")), Has.Length.EqualTo(1 + 3 + 3));
        System.Xml.Linq.XDocument.Load(dir.File("overopt.svg"));

        File.WriteAllText(curve, "round,step,kl,reward_model_score,gold_score\n1,0,x,0.4,0.2\n");
        var e = Assert.Throws<RlhfCore.Data.DataFormatException>(() => OveroptStudy.ReadCurve(curve))!;
        Assert.That(e.Message, Does.Contain($"{curve} line 2").And.Contain("kl"));
    }

    [TestCase(10)]
    [TestCase(3)]
    public void ArithmeticPrompts_UseTheStudysMaxOperand(int maxOperand)
    {
        // A demo's policy has seen single-digit sums only; the study must ask it those, not the task's default range.
        var task = new RlhfCore.Training.Overopt.OveroptOptions { MaxOperand = maxOperand }.GoldTask();
        var rng = new Rng(5);
        var operands = Enumerable.Range(0, 500).SelectMany(_ => task.SamplePrompt(rng).TrimEnd('=').Split('+')).Select(int.Parse).ToList();
        Assert.That(operands.Max(), Is.EqualTo(maxOperand - 1));
        Assert.That(operands.Min(), Is.EqualTo(0));
    }
}
