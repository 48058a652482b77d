namespace RlhfCore.IO;

/// <summary>
/// A model or data file whose structure is readable but whose content does not fit what is asked of
/// it: a missing or misshaped tensor in a GPT-2 checkpoint, a bad llm.c header, a token shard of the
/// wrong size. The message names the file, the tensor or field, and what was expected.
/// </summary>
public sealed class CheckpointException : IOException
{
    /// <summary>The file involved.</summary>
    public string FilePath { get; }

    /// <summary>Creates the exception; the message is prefixed with the file name.</summary>
    public CheckpointException(string filePath, string message, Exception? inner = null)
        : base($"'{filePath}': {message}", inner)
    {
        FilePath = filePath;
    }
}
