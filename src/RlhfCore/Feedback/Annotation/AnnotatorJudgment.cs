namespace RlhfCore.Feedback.Annotation;

/// <summary>One simulated judgment, with what it was drawn from.</summary>
/// <param name="Decision"><see cref="LabelDecision.A"/>, <see cref="LabelDecision.B"/> or <see cref="LabelDecision.Tie"/>.</param>
/// <param name="GoldA">Gold reward of completion A.</param>
/// <param name="GoldB">Gold reward of completion B.</param>
/// <param name="ProbabilityA">The probability the annotator had of choosing A (flips included); 0.5 for a tie.</param>
public readonly record struct AnnotatorJudgment(LabelDecision Decision, double GoldA, double GoldB, double ProbabilityA);

/// <summary>The judgments of a batch of items, and the TRL pairs they make (ties dropped).</summary>
/// <param name="Judgments">One per item, in item order.</param>
/// <param name="Pairs">One per non-tie judgment, in item order.</param>
public sealed record AnnotationResult(IReadOnlyList<AnnotatorJudgment> Judgments, IReadOnlyList<PreferencePair> Pairs)
{
    /// <summary>Writes <see cref="Pairs"/> to <paramref name="path"/> as TRL JSONL, atomically.</summary>
    public void WritePairs(string path) => PairFile.Write(path, Pairs);
}
