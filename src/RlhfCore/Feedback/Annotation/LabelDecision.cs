namespace RlhfCore.Feedback.Annotation;

/// <summary>What a judge (a person or the simulated annotator) said about a <see cref="ComparisonItem"/>.</summary>
public enum LabelDecision
{
    /// <summary>Completion A is better.</summary>
    A,
    /// <summary>Completion B is better.</summary>
    B,
    /// <summary>Neither is better.</summary>
    Tie,
    /// <summary>The judge declined to say (people only).</summary>
    Skip,
}

/// <summary>The spelling of decisions in <c>judgments.jsonl</c>.</summary>
public static class LabelDecisions
{
    /// <summary>The value of the <c>decision</c> field for a retraction (undo) record.</summary>
    public const string UndoName = "undo";

    /// <summary><c>a</c>, <c>b</c>, <c>tie</c> or <c>skip</c>.</summary>
    public static string Name(this LabelDecision d) => d switch
    {
        LabelDecision.A => "a",
        LabelDecision.B => "b",
        LabelDecision.Tie => "tie",
        LabelDecision.Skip => "skip",
        _ => throw new ArgumentOutOfRangeException(nameof(d), d, null),
    };

    /// <summary>The decision spelled <paramref name="name"/>, or null when it is not one.</summary>
    public static LabelDecision? Parse(string name) => name switch
    {
        "a" => LabelDecision.A,
        "b" => LabelDecision.B,
        "tie" => LabelDecision.Tie,
        "skip" => LabelDecision.Skip,
        _ => null,
    };

    /// <summary>The TRL pair a decision makes, or null for a tie or skip.</summary>
    public static PreferencePair? ToPair(this LabelDecision d, ComparisonItem item) => d switch
    {
        LabelDecision.A => new PreferencePair(item.Prompt, item.A, item.B),
        LabelDecision.B => new PreferencePair(item.Prompt, item.B, item.A),
        _ => null,
    };
}
