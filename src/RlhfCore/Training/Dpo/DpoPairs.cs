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

/// <summary>
/// Reads preference pairs in TRL's explicit-prompt layout: one <c>{"prompt","chosen","rejected"}</c> object per
/// line (other keys ignored). The feedback readers of <c>Data/Feedback</c> (HH transcripts, rankings) are the
/// general path; this reader covers what <c>rlhf dpo</c> needs and should be folded into them.
/// </summary>
public static class DpoPairs
{
    /// <summary>All pairs of <paramref name="path"/>, each validated.</summary>
    /// <exception cref="DataFormatException">A line is malformed; the message names the file, line and field.</exception>
    public static List<DpoPair> Load(string path) => JsonlReader.Read(path).Select(Parse).ToList();

    private static DpoPair Parse(JsonlRecord line)
    {
        if (!line.Has("prompt"))
            throw line.Error("prompt", "is missing (a preference line is {\"prompt\",\"chosen\",\"rejected\"})");
        return new DpoPair(line.GetString("prompt"), line.GetString("chosen"), line.GetString("rejected"), line.FilePath, line.Line).Validate();
    }
}
