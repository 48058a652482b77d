using RlhfCore.Data.Tasks;
using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Tests.Tasks;

namespace RlhfCore.Tests.Annotation;

public class SimulatedAnnotatorTests
{
    private static readonly ReviewTask Reviews = new();

    /// <summary>Two demonstrations per prompt: pairs with every gold difference the corpus makes.</summary>
    private static List<ComparisonItem> ReviewPairs(int count, ulong seed)
    {
        var rng = new Rng(seed);
        var items = new List<ComparisonItem>(count);
        while (items.Count < count)
        {
            var a = Reviews.SampleDemonstration(rng);
            var b = Reviews.SampleDemonstration(rng);
            if (a.Prompt == b.Prompt) items.Add(new ComparisonItem(a.Prompt, a.Completion, b.Completion));
        }
        return items;
    }

    private static double RateA(SimulatedAnnotator annotator, ComparisonItem item, int n) =>
        annotator.Label(Enumerable.Repeat(item, n).ToList()).Judgments.Count(j => j.Decision == LabelDecision.A) / (double)n;

    [Test]
    public void Noiseless_AlwaysPrefersTheHigherGold()
    {
        var items = ReviewPairs(3000, 5);
        var result = new SimulatedAnnotator(Reviews, new AnnotatorOptions()).Label(items);
        int strict = 0;
        for (int i = 0; i < items.Count; i++)
        {
            var j = result.Judgments[i];
            Assert.That(j.GoldA, Is.EqualTo(Reviews.GoldReward(items[i].Prompt, items[i].A)));
            if (j.GoldA == j.GoldB) continue;
            strict++;
            Assert.That(j.Decision, Is.EqualTo(j.GoldA > j.GoldB ? LabelDecision.A : LabelDecision.B), items[i].ToString());
        }
        Assert.That(strict, Is.GreaterThan(2000));
        foreach (var p in result.Pairs)
            Assert.That(Reviews.GoldReward(p.Prompt, p.Chosen), Is.GreaterThanOrEqualTo(Reviews.GoldReward(p.Prompt, p.Rejected)));
    }

    // P(A) = σ(Δ/T) with Δ = gold(" great crust.") − gold(" slow crust.") = tanh(2/3) + tanh(1/3).
    [TestCase(0.25)]
    [TestCase(1.0)]
    [TestCase(4.0)]
    public void Temperature_PreferenceRateMatchesBradleyTerry(double temperature)
    {
        const int n = 20000;
        var item = new ComparisonItem("pizza review:", " great crust.", " slow crust.");
        double delta = Math.Tanh(2 / 3.0) + Math.Tanh(1 / 3.0);
        double expected = 1 / (1 + Math.Exp(-delta / temperature));
        var annotator = new SimulatedAnnotator(Reviews, new AnnotatorOptions { Temperature = temperature, Seed = 9 });
        Assert.That(RateA(annotator, item, n), Is.EqualTo(expected).Within(Statistics.BinomialBound(expected, n)));
        Assert.That(annotator.Judge(item).ProbabilityA, Is.EqualTo(expected).Within(1e-15));
        // Swapping the sides gives the complement.
        var swapped = item with { A = item.B, B = item.A };
        Assert.That(RateA(annotator, swapped, n), Is.EqualTo(1 - expected).Within(Statistics.BinomialBound(expected, n)));
    }

    [Test]
    public void FlipProbability_FlipsThatFractionOfNoiselessJudgments()
    {
        const int n = 20000;
        var item = new ComparisonItem("17+25=", "42", "41");
        var annotator = new SimulatedAnnotator(new ArithmeticGoldTask(), new AnnotatorOptions { FlipProbability = 0.2, Seed = 4 });
        Assert.That(RateA(annotator, item, n), Is.EqualTo(0.8).Within(Statistics.BinomialBound(0.8, n)));
        Assert.That(annotator.Judge(item).ProbabilityA, Is.EqualTo(0.8).Within(1e-15));
    }

    [Test]
    public void LengthBias_DecidesGoldTies_TowardTheLongerWhenPositive()
    {
        // Both answers are wrong (gold 0 = 0): only the bias speaks. P(A) = σ(λ·(2 − 5)).
        const int n = 20000;
        var item = new ComparisonItem("17+25=", "41", "41000");
        double expected = 1 / (1 + Math.Exp(0.4 * 3));
        var annotator = new SimulatedAnnotator(new ArithmeticGoldTask(), new AnnotatorOptions { LengthBias = 0.4, Seed = 2 });
        Assert.That(RateA(annotator, item, n), Is.EqualTo(expected).Within(Statistics.BinomialBound(expected, n)));
        Assert.That(expected, Is.LessThan(0.5), "positive bias prefers the longer B");
        var unbiased = new SimulatedAnnotator(new ArithmeticGoldTask(), new AnnotatorOptions { Seed = 2 });
        Assert.That(RateA(unbiased, item, n), Is.EqualTo(0.5).Within(Statistics.BinomialBound(0.5, n)));
    }

    [TestCase(0.3)]
    [TestCase(-0.3)]
    public void LengthBias_ShiftsNoisyChoicesInItsDirection(double bias)
    {
        // A is shorter and slightly better: the bias adds λ·(len_A − len_B) to the logit Δ/T.
        const int n = 20000;
        var item = new ComparisonItem("pizza review:", " good crust.", " okay crust, plain sauce.");
        int lengthDiff = item.A.Length - item.B.Length;
        double delta = Math.Tanh(1 / 3.0);
        double expected = 1 / (1 + Math.Exp(-(delta / 0.5 + bias * lengthDiff)));
        var biased = new SimulatedAnnotator(Reviews, new AnnotatorOptions { Temperature = 0.5, LengthBias = bias, Seed = 8 });
        var unbiased = new SimulatedAnnotator(Reviews, new AnnotatorOptions { Temperature = 0.5, Seed = 8 });
        double rate = RateA(biased, item, n), baseline = RateA(unbiased, item, n);
        Assert.That(rate, Is.EqualTo(expected).Within(Statistics.BinomialBound(expected, n)));
        if (bias > 0) Assert.That(rate, Is.LessThan(baseline - 0.1), "a positive bias moves choices to the longer B");
        else Assert.That(rate, Is.GreaterThan(baseline + 0.1), "a negative bias moves choices to the shorter A");
    }

    [Test]
    public void Ties_BelowTheMargin_AndForIdenticalCompletions_MakeNoPairs()
    {
        var items = new List<ComparisonItem>
        {
            new("pizza review:", " good crust.", " okay crust."),   // Δ = tanh(1/3) ≈ 0.32 < 0.5: tie
            new("pizza review:", " great crust.", " awful crust."), // Δ ≈ 1.17: judged
            new("pizza review:", " good crust.", " good crust."),   // identical: tie at any margin
        };
        var result = new SimulatedAnnotator(Reviews, new AnnotatorOptions { TieMargin = 0.5 }).Label(items);
        Assert.That(result.Judgments.Select(j => j.Decision), Is.EqualTo(new[] { LabelDecision.Tie, LabelDecision.A, LabelDecision.Tie }));
        Assert.That(result.Pairs, Is.EqualTo(new[] { new PreferencePair("pizza review:", " great crust.", " awful crust.") }));
        var noMargin = new SimulatedAnnotator(Reviews, new AnnotatorOptions()).Label(items);
        Assert.That(noMargin.Judgments.Select(j => j.Decision), Is.EqualTo(new[] { LabelDecision.A, LabelDecision.A, LabelDecision.Tie }));
    }

    [Test]
    public void Seeded_AndEachItemDependsOnlyOnItsPosition()
    {
        var items = ReviewPairs(200, 3);
        var options = new AnnotatorOptions { Temperature = 0.5, FlipProbability = 0.1, LengthBias = 0.05, Seed = 21 };
        var first = new SimulatedAnnotator(Reviews, options).Label(items);
        Assert.That(new SimulatedAnnotator(Reviews, options).Label(items).Judgments, Is.EqualTo(first.Judgments));
        Assert.That(new SimulatedAnnotator(Reviews, options with { Seed = 22 }).Label(items).Judgments, Is.Not.EqualTo(first.Judgments));
        // Item 0 becomes a tie (identical completions); later items still see the same random numbers.
        var changed = items.ToList();
        changed[0] = changed[0] with { B = changed[0].A };
        var second = new SimulatedAnnotator(Reviews, options).Label(changed);
        Assert.That(second.Judgments.Skip(1), Is.EqualTo(first.Judgments.Skip(1)));
    }

    [Test]
    public void WritePairs_WritesTrlJsonl()
    {
        using var dir = new IO.TempDir();
        var items = new List<ComparisonItem> { new("17+25=", "41", "42"), new("1+1=", "2", "3") };
        var result = new SimulatedAnnotator(new ArithmeticGoldTask(), new AnnotatorOptions()).Label(items);
        result.WritePairs(dir.File("pairs.jsonl"));
        Assert.That(File.ReadAllText(dir.File("pairs.jsonl")), Is.EqualTo(
            "{\"prompt\":\"17+25=\",\"chosen\":\"42\",\"rejected\":\"41\"}\n{\"prompt\":\"1+1=\",\"chosen\":\"2\",\"rejected\":\"3\"}\n"));
    }

    [TestCase(-1, 0, 0, 0, "temperature")]
    [TestCase(double.NaN, 0, 0, 0, "temperature")]
    [TestCase(0, 1.5, 0, 0, "flip probability")]
    [TestCase(0, 0, double.PositiveInfinity, 0, "length bias")]
    [TestCase(0, 0, 0, -0.1, "tie margin")]
    public void BadOptions_AreNamed(double t, double flip, double bias, double margin, string name)
    {
        var o = new AnnotatorOptions { Temperature = t, FlipProbability = flip, LengthBias = bias, TieMargin = margin };
        var e = Assert.Throws<ArgumentException>(() => new SimulatedAnnotator(Reviews, o))!;
        Assert.That(e.Message, Does.Contain(name));
    }
}
