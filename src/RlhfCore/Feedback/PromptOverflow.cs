namespace RlhfCore.Feedback;

/// <summary>What to do when a prompt plus its longest completion does not fit the reward model's sequence length.</summary>
public enum PromptOverflow
{
    /// <summary>Fail with an error naming the file and line.</summary>
    Error,
    /// <summary>Drop the prompt's oldest tokens until it fits (the completions are kept whole); an error when the completion alone is too long.</summary>
    TruncateLeft,
    /// <summary>Leave the record out and list it.</summary>
    Skip,
}
