namespace RlhfCore.Data;

/// <summary>What to do with an example longer than the model's context.</summary>
public enum OverlongPolicy
{
    /// <summary>Fail with an error naming the file and line.</summary>
    Error,

    /// <summary>Keep the first tokens that fit and drop the rest (the end of the completion and its EOS).</summary>
    Truncate,
}
