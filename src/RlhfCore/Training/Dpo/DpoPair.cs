using RlhfCore.Data;

namespace RlhfCore.Training.Dpo;

/// <summary>One preference pair as written in the dataset: the same prompt, a preferred and a dispreferred completion.</summary>
/// <param name="Prompt">Context both completions continue.</param>
/// <param name="Chosen">The preferred completion.</param>
/// <param name="Rejected">The dispreferred completion.</param>
/// <param name="FilePath">Source file, for error messages.</param>
/// <param name="Line">Source line (1-based), for error messages.</param>
public sealed record DpoPair(string Prompt, string Chosen, string Rejected, string FilePath, int Line)
{
    /// <summary>An in-memory pair (the pipeline's), named <paramref name="source"/> in error messages.</summary>
    public static DpoPair InMemory(string prompt, string chosen, string rejected, string source = "<memory>", int index = 0) =>
        new(prompt, chosen, rejected, source, index + 1);

    /// <summary>Throws naming the line and field when the pair cannot teach a preference.</summary>
    /// <exception cref="DataFormatException">A completion is empty, or both completions are the same.</exception>
    public DpoPair Validate()
    {
        if (Chosen.Length == 0) throw new DataFormatException(FilePath, Line, "chosen", "is empty; a preference pair needs two non-empty completions");
        if (Rejected.Length == 0) throw new DataFormatException(FilePath, Line, "rejected", "is empty; a preference pair needs two non-empty completions");
        if (Chosen == Rejected)
            throw new DataFormatException(FilePath, Line, "rejected", "is identical to \"chosen\"; a preference pair needs two different completions");
        return this;
    }
}
