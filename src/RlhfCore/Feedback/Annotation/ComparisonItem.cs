namespace RlhfCore.Feedback.Annotation;

/// <summary>One thing to judge: a prompt and two completions of it.</summary>
/// <param name="Prompt">The prompt both completions continue.</param>
/// <param name="A">The first completion.</param>
/// <param name="B">The second completion.</param>
public sealed record ComparisonItem(string Prompt, string A, string B)
{
    /// <summary>True when the two completions are the same text, so no preference between them can be stated.</summary>
    public bool Identical => string.Equals(A, B, StringComparison.Ordinal);
}
