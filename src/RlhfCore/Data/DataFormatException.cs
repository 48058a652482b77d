namespace RlhfCore.Data;

/// <summary>
/// A data or tokenizer file is unusable. The message names the file, and the line and field where known,
/// e.g. <c>data.jsonl line 17: field "completion" is missing</c>.
/// </summary>
public sealed class DataFormatException : FormatException
{
    /// <summary>The file that is at fault.</summary>
    public string FilePath { get; }

    /// <summary>1-based line number, when the problem is on one line.</summary>
    public int? Line { get; }

    /// <summary>The field (JSON key or token) at fault, when there is one.</summary>
    public string? Field { get; }

    /// <summary>Creates the exception; <paramref name="problem"/> completes the sentence after the field.</summary>
    public DataFormatException(string filePath, int? line, string? field, string problem, Exception? inner = null)
        : base(Format(filePath, line, field, problem), inner)
    {
        FilePath = filePath;
        Line = line;
        Field = field;
    }

    private static string Format(string filePath, int? line, string? field, string problem) =>
        filePath + (line is { } l ? $" line {l}" : "") + ": " + (field != null ? $"field \"{field}\" " : "") + problem;
}
