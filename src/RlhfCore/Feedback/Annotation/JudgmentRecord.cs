namespace RlhfCore.Feedback.Annotation;

/// <summary>One live judgment of <c>judgments.jsonl</c>: item <paramref name="Item"/> (1-based, in input order) got <paramref name="Decision"/>.</summary>
/// <param name="Item">1-based position of the item in the input file.</param>
/// <param name="Decision">What the judge said.</param>
/// <param name="Comparison">The item judged.</param>
public sealed record JudgmentRecord(int Item, LabelDecision Decision, ComparisonItem Comparison);
