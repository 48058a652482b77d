namespace RlhfCore.Cli.Label;

/// <summary>Where a labeling session ended.</summary>
/// <param name="Total">Items in the input.</param>
/// <param name="Judged">Items with a live judgment (skips included).</param>
/// <param name="Pairs">Pairs in <c>pairs.jsonl</c> (A or B judgments).</param>
/// <param name="Ties">Tie judgments.</param>
/// <param name="Skipped">Skip judgments.</param>
public sealed record LabelSummary(int Total, int Judged, int Pairs, int Ties, int Skipped)
{
    /// <summary>True when every item is judged.</summary>
    public bool Finished => Judged == Total;
}
