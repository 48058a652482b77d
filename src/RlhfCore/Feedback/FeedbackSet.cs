namespace RlhfCore.Feedback;

/// <summary>The feedback read from one file.</summary>
/// <param name="Kind">The file's layout.</param>
/// <param name="Records">The usable records in file order.</param>
/// <param name="Skipped">One message per record left out for bad content (only when skipping was asked for).</param>
public sealed record FeedbackSet(FeedbackKind Kind, IReadOnlyList<FeedbackRecord> Records, IReadOnlyList<string> Skipped);
