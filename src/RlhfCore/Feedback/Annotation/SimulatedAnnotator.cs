using RlhfCore.Data.Tasks;

namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// Labels comparison items from a task's gold reward, as a stand-in for people, by Bradley–Terry
/// sampling: <c>P(A ≻ B) = σ((g_A − g_B)/T + λ·(len_A − len_B))</c>, then a flip with probability f.
/// T = 0 makes the gold reward decide outright (the length bias then only breaks exact gold ties).
/// Items whose gold rewards differ by less than the tie margin, and items whose completions are
/// identical (a pair with chosen == rejected teaches nothing), are ties. Each item draws exactly two
/// numbers from the generator whatever happens, so item k's judgment depends only on the seed, k and
/// the item itself.
/// </summary>
public sealed partial class SimulatedAnnotator
{
    private readonly IGoldTask _task;
    private readonly AnnotatorOptions _options;

    /// <summary>An annotator for <paramref name="task"/>'s gold reward.</summary>
    public SimulatedAnnotator(IGoldTask task, AnnotatorOptions options)
    {
        _task = task;
        _options = options.Validate();
        Rng = new Rng(options.Seed);
    }

    /// <summary>The annotator's generator (its <see cref="Rng.State"/> can be checkpointed and restored).</summary>
    public Rng Rng { get; }

    /// <summary>Judges every item, in order.</summary>
    public AnnotationResult Label(IReadOnlyList<ComparisonItem> items)
    {
        var judgments = new AnnotatorJudgment[items.Count];
        var pairs = new List<PreferencePair>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            judgments[i] = Judge(items[i]);
            if (judgments[i].Decision.ToPair(items[i]) is { } pair) pairs.Add(pair);
        }
        return new AnnotationResult(judgments, pairs);
    }

    /// <summary>Judges one item.</summary>
    public AnnotatorJudgment Judge(ComparisonItem item)
    {
        double gA = _task.GoldReward(item.Prompt, item.A), gB = _task.GoldReward(item.Prompt, item.B);
        double pickDraw = Rng.NextDouble(), flipDraw = Rng.NextDouble();
        if (item.Identical || Math.Abs(gA - gB) < _options.TieMargin)
            return new AnnotatorJudgment(LabelDecision.Tie, gA, gB, 0.5);
        double p = ProbabilityA(gA, gB, item.A.Length - item.B.Length);
        double f = _options.FlipProbability;
        bool chooseA = (pickDraw < p) != (flipDraw < f);
        return new AnnotatorJudgment(chooseA ? LabelDecision.A : LabelDecision.B, gA, gB, p * (1 - f) + (1 - p) * f);
    }

    /// <summary>P(A ≻ B) before flips, for gold rewards <paramref name="goldA"/>, <paramref name="goldB"/> and a length difference in characters.</summary>
    public double ProbabilityA(double goldA, double goldB, int lengthDifference)
    {
        double delta = goldA - goldB, bias = _options.LengthBias * lengthDifference;
        if (_options.Temperature == 0)
            return delta > 0 ? 1 : delta < 0 ? 0 : Sigmoid(bias);
        return Sigmoid(delta / _options.Temperature + bias);
    }

    private static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
