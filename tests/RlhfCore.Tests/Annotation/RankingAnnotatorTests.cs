using RlhfCore.Data.Tasks;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Tests.IO;

namespace RlhfCore.Tests.Annotation;

/// <summary>
/// The K-wise annotator: its rankings follow the exact Plackett–Luce distribution (chi-square over every
/// permutation, small K, seeded, at a threshold a biased sampler far exceeds), ties and identical
/// completions share a tie group, and the ranking files reject a K that changes between lines.
/// </summary>
public class RankingAnnotatorTests
{
    /// <summary>A task whose gold reward is a lookup of the completion text.</summary>
    private sealed class TableTask(Dictionary<string, double> gold) : IGoldTask
    {
        public string Name => "table";
        public int MaxCompletionChars => 8;
        public string SamplePrompt(Rng rng) => "p";
        public PromptCompletion SampleDemonstration(Rng rng) => throw new NotSupportedException("the table task has no demonstrations");
        public double GoldReward(string prompt, string completion) => gold[completion];
    }

    private static readonly TableTask Task = new(new() { ["a"] = 0.0, ["bb"] = 0.5, ["ccc"] = 1.0, ["dddd"] = 0.2, ["x"] = 0.3 });

    /// <summary>P(order) under Plackett–Luce with the given logits: Π_stage exp(u_pick) / Σ_remaining exp(u).</summary>
    private static double PlackettLuce(IReadOnlyList<int> order, double[] logits)
    {
        double p = 1;
        for (int s = 0; s < order.Count; s++)
            p *= Math.Exp(logits[order[s]]) / order.Skip(s).Sum(i => Math.Exp(logits[i]));
        return p;
    }

    private static IEnumerable<int[]> Permutations(int n) => n == 1 ? [[0]]
        : Permutations(n - 1).SelectMany(p => Enumerable.Range(0, n).Select(pos => p.Take(pos).Append(n - 1).Concat(p.Skip(pos)).ToArray()));

    [TestCase(new[] { "a", "bb", "ccc" }, 0.5, 0.1, 0.0)]
    [TestCase(new[] { "a", "bb", "ccc" }, 0.5, 0.0, 0.2)]
    [TestCase(new[] { "ccc", "a", "dddd", "bb" }, 0.4, -0.05, 0.1)]
    public void Rankings_FollowExactPlackettLuceProbabilities(string[] completions, double temperature, double lengthBias, double flip)
    {
        var annotator = new SimulatedAnnotator(Task, new AnnotatorOptions { Temperature = temperature, LengthBias = lengthBias, FlipProbability = flip, Seed = 99 });
        int k = completions.Length, draws = 40000;
        var logits = completions.Select(c => annotator.Logit(Task.GoldReward("p", c), c.Length)).ToArray();
        var perms = Permutations(k).ToList();
        var counts = perms.ToDictionary(p => string.Join(",", p), _ => 0);
        var item = new RankingItem("p", completions);
        for (int i = 0; i < draws; i++)
        {
            var r = annotator.Rank(item);
            counts[string.Join(",", r.Ranked.Select(c => Array.IndexOf(completions, c)))]++;
        }
        double chi2 = 0;
        foreach (var p in perms)
        {
            double prob = (1 - flip) * PlackettLuce(p, logits) + flip * PlackettLuce(p.Reverse().ToArray(), logits);
            double expected = prob * draws;
            double diff = counts[string.Join(",", p)] - expected;
            chi2 += diff * diff / expected;
        }
        // The 0.1 % critical values of χ² with 5 (K = 3) and 23 (K = 4) degrees of freedom.
        double critical = k == 3 ? 20.52 : 49.73;
        TestContext.Out.WriteLine($"K = {k}: χ² = {chi2:F2} (critical {critical})");
        Assert.That(chi2, Is.LessThan(critical));
    }

    [Test]
    public void TwoCompletions_RankLikeThePairJudgment()
    {
        var o = new AnnotatorOptions { Temperature = 0.7, LengthBias = 0.2 };
        var annotator = new SimulatedAnnotator(Task, o);
        double pA = annotator.ProbabilityA(0.0, 1.0, "a".Length - "ccc".Length);
        double pl = PlackettLuce([0, 1], [annotator.Logit(0.0, 1), annotator.Logit(1.0, 3)]);
        Assert.That(pl, Is.EqualTo(pA).Within(1e-12));
        int first = Enumerable.Range(0, 20000).Count(_ => annotator.Rank(new RankingItem("p", ["a", "ccc"])).Ranked[0] == "a");
        Assert.That(first / 20000.0, Is.EqualTo(pA).Within(0.012));
    }

    [Test]
    public void IdenticalCompletionsAndGoldWithinTheTieMargin_ShareATieGroup()
    {
        var noiseless = new SimulatedAnnotator(Task, new AnnotatorOptions { TieMargin = 0.25 });
        var r = noiseless.Rank(new RankingItem("p", ["a", "x", "ccc", "x", "dddd"]));
        // Gold: ccc 1.0 | x 0.3, x 0.3, dddd 0.2 (within 0.25 of 0.3) | a 0.0 (0.3 below x).
        Assert.That(r.Ranked, Is.EqualTo(new[] { "ccc", "x", "x", "dddd", "a" }));
        Assert.That(r.Ranks, Is.EqualTo(new[] { 0, 1, 1, 1, 2 }));
        Assert.That(r.ToStrictRanking()!.Ranked, Is.EqualTo(new[] { "ccc", "x", "a" }));
        var pairs = r.ToPairs().Select(p => (p.Chosen, p.Rejected)).ToList();
        Assert.That(pairs, Is.EquivalentTo(new[] { ("ccc", "x"), ("ccc", "dddd"), ("ccc", "a"), ("x", "a"), ("dddd", "a") }),
            "every cross-group pair once; ties and duplicate texts make none");
        Assert.That(noiseless.Rank(new RankingItem("p", ["x", "x", "x"])).ToStrictRanking(), Is.Null, "all ties: no ranking");
    }

    [Test]
    public void RankingFiles_RoundTrip_AndAChangingKIsOneErrorNamingFileAndLine()
    {
        using var dir = new TempDir();
        string items = dir.File("comparisons.jsonl"), rankings = dir.File("rankings.jsonl");
        RankingFiles.WriteItems(items, [new RankingItem("1+2=", ["3", "4", ""]), new RankingItem("2+2=", ["4", "4", "5"])]);
        Assert.That(RankingFiles.ReadItems(items, 3)[1].Completions, Is.EqualTo(new[] { "4", "4", "5" }));
        var e = Assert.Throws<RlhfCore.Data.DataFormatException>(() => RankingFiles.ReadItems(items, 4))!;
        Assert.That(e.Message, Does.Contain($"{items} line 1").And.Contain("--completions-per-prompt"));

        File.WriteAllText(rankings, "{\"prompt\":\"p\",\"ranked\":[\"a\",\"b\",\"c\"],\"ranks\":[0,1,1]}\n{\"prompt\":\"p\",\"ranked\":[\"a\",\"b\"],\"ranks\":[0,1]}\n");
        e = Assert.Throws<RlhfCore.Data.DataFormatException>(() => RankingFiles.ReadRankings(rankings))!;
        Assert.That(e.Message, Does.Contain($"{rankings} line 2").And.Contain("ranked").And.Contain("first line has 3"));
        File.WriteAllText(rankings, "{\"prompt\":\"p\",\"ranked\":[\"a\",\"b\",\"c\"],\"ranks\":[0,2,2]}\n");
        Assert.That(Assert.Throws<RlhfCore.Data.DataFormatException>(() => RankingFiles.ReadRankings(rankings))!.Message, Does.Contain("ranks"));
        var good = new RankingRecord("p", ["a", "b", "c"], [0, 0, 1]);
        RankingFiles.WriteRankings(rankings, [good]);
        var back = RankingFiles.ReadRankings(rankings).Single();
        Assert.That(back.Ranked, Is.EqualTo(good.Ranked));
        Assert.That(back.Ranks, Is.EqualTo(good.Ranks));
    }
}
