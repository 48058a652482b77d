using RlhfCore.Data;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// Reads preference pairs in TRL's explicit-prompt layout: one <c>{"prompt","chosen","rejected"}</c> object per
/// line (other keys ignored). The feedback readers of <c>Feedback/</c> (HH transcripts, rankings) are the
/// general path; this reader covers what <c>rlhf dpo</c> needs and should be folded into them.
/// </summary>
public static class DpoPairs
{
    /// <summary>All pairs of <paramref name="path"/>, each validated.</summary>
    /// <exception cref="DataFormatException">A line is malformed; the message names the file, line and field.</exception>
    public static List<DpoPair> Load(string path, int maxLineBytes = JsonlReader.DefaultMaxLineBytes) => JsonlReader.Read(path, maxLineBytes).Select(Parse).ToList();

    private static DpoPair Parse(JsonlRecord line)
    {
        if (!line.Has("prompt"))
            throw line.Error("prompt", "is missing (a preference line is {\"prompt\",\"chosen\",\"rejected\"})");
        return new DpoPair(line.GetString("prompt"), line.GetString("chosen"), line.GetString("rejected"), line.FilePath, line.Line).Validate();
    }
}
