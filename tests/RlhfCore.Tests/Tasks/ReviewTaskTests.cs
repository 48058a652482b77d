using RlhfCore.Data.Tasks;

namespace RlhfCore.Tests.Tasks;

public class ReviewTaskTests
{
    private static readonly ReviewTask Task = new();

    // Hand-worked: words are runs of letters; S sums adjective weights (not flips); gold = tanh(S/3) − 0.25·repeats
    // − 0.25·offTopic − 0.1·(words beyond 9). Expected values are tanh evaluated independently (Python math.tanh).
    [TestCase(" great crust, slow staff.", 0.32151273753163434, TestName = "S = 2 - 1: tanh(1/3)")]
    [TestCase(" not fresh sauce.", -0.32151273753163434, TestName = "not flips fresh: tanh(-1/3)")]
    [TestCase(" great crust, great crust.", 0.37006166174267185, TestName = "two repeats: tanh(4/3) - 0.5")]
    [TestCase(" great screen.", 0.3327829453479102, TestName = "screen is off topic for pizza: tanh(2/3) - 0.25")]
    [TestCase(" superb crust, perfect sauce, great cheese, good staff, nice price.", 0.890390494225681, TestName = "10 words, one over budget: tanh(8/3) - 0.1")]
    [TestCase(" GREAT Crust!!!", 0.5827829453479102, TestName = "case and punctuation ignored: tanh(2/3)")]
    [TestCase(" okay price.", 0.0, TestName = "neutral: 0")]
    [TestCase(" not crust", 0.0, TestName = "not before a noun does nothing")]
    [TestCase("", -1.0, TestName = "empty: -1")]
    [TestCase(" ...", -1.0, TestName = "no words: -1")]
    public void Gold_HandWorked(string completion, double expected) =>
        Assert.That(Task.GoldReward("pizza review:", completion), Is.EqualTo(expected).Within(1e-15));

    [Test]
    public void Score_ReportsItsParts()
    {
        var s = Task.Score("phone review:", " great screen, great cake, not slow screen, x");
        Assert.That(s, Is.EqualTo(new ReviewScore(Words: 8, Sentiment: 2 + 2 + 1, Repeats: 2, OffTopic: 2, ExcessWords: 0,
            Gold: Math.Tanh(5 / 3.0) - 0.25 * 2 - 0.25 * 2)));
    }

    [Test]
    public void Gold_IsGraded_WithAnInteriorOptimum()
    {
        // More positive phrases help until the word budget; repeating the best word hurts.
        string[] ladder = [" okay crust.", " good crust.", " great crust.", " great crust, superb sauce.",
                           " great crust, superb sauce, perfect cheese, good staff."];
        var golds = ladder.Select(c => Task.GoldReward("pizza review:", c)).ToArray();
        Assert.That(golds, Is.Ordered.Ascending);
        Assert.That(golds.Distinct().Count(), Is.EqualTo(ladder.Length));
        Assert.That(Task.GoldReward("pizza review:", " great great great great great great crust."), Is.LessThan(golds[2]));
    }

    [TestCase("pizza")]
    [TestCase("pizza review")]
    [TestCase("car review:")]
    public void BadPrompt_IsAFormatException_NamingIt(string prompt)
    {
        var e = Assert.Throws<FormatException>(() => Task.GoldReward(prompt, " good crust."))!;
        Assert.That(e.Message, Does.Contain($"'{prompt}'").And.Contain("TOPIC review:"));
    }

    [Test]
    public void Demonstrations_AreWellFormed_OnTopic_AndWithinBudgets()
    {
        var rng = new Rng(7);
        var demos = Enumerable.Range(0, 2000).Select(_ => Task.SampleDemonstration(rng)).ToList();
        foreach (var d in demos)
        {
            var s = Task.Score(d.Prompt, d.Completion);
            Assert.That((s.Repeats, s.OffTopic, s.ExcessWords), Is.EqualTo((0, 0, 0)), d.ToString());
            Assert.That(s.Words, Is.InRange(2, Task.WordBudget), d.ToString());
            Assert.That(d.Completion, Does.StartWith(" ").And.EndWith("."));
            Assert.That(d.Completion.Length, Is.LessThanOrEqualTo(Task.MaxCompletionChars));
        }
        // Adjectives are drawn uniformly, so the corpus spans the whole sentiment range around zero: room to improve.
        var golds = demos.Select(d => Task.GoldReward(d.Prompt, d.Completion)).ToList();
        Assert.That(golds.Average(), Is.InRange(-0.1, 0.15));
        Assert.That(golds.Min(), Is.LessThan(-0.8));
        Assert.That(golds.Max(), Is.GreaterThan(0.8));
        Assert.That(demos.Select(d => d.Prompt).Distinct().Count(), Is.EqualTo(ReviewLexicon.Topics.Count));
        double negated = demos.Count(d => d.Completion.Contains(" not ")) / (double)demos.Count;
        Assert.That(negated, Is.InRange(0.15, 0.5), "some demonstrations use the negation");
    }

    [Test]
    public void Demonstrations_AreDeterministicFromTheSeed()
    {
        List<PromptCompletion> Draw(ulong seed)
        {
            var rng = new Rng(seed);
            return Enumerable.Range(0, 50).Select(_ => Task.SampleDemonstration(rng)).ToList();
        }
        Assert.That(Draw(3), Is.EqualTo(Draw(3)));
        Assert.That(Draw(3), Is.Not.EqualTo(Draw(4)));
    }
}
