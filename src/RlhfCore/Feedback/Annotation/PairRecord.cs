namespace RlhfCore.Feedback.Annotation;

/// <summary>A preference in TRL's pair format: <c>{"prompt","chosen","rejected"}</c>.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Chosen">The preferred completion.</param>
/// <param name="Rejected">The other completion.</param>
public sealed record PairRecord(string Prompt, string Chosen, string Rejected);
