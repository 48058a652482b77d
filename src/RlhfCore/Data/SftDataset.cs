namespace RlhfCore.Data;

/// <summary>
/// Reads SFT JSONL in TRL's layouts: each line is <c>{"text": …}</c> or <c>{"prompt": …, "completion": …}</c>
/// (other keys are ignored).
/// </summary>
public static class SftDataset
{
    /// <summary>The records of <paramref name="path"/>, read lazily in file order.</summary>
    /// <exception cref="DataFormatException">A line is malformed; the message names the file, line and field.</exception>
    public static IEnumerable<SftRecord> Read(string path, int maxLineBytes = JsonlReader.DefaultMaxLineBytes) =>
        JsonlReader.Read(path, maxLineBytes).Select(Parse);

    /// <summary>All records of <paramref name="path"/>.</summary>
    public static List<SftRecord> Load(string path, int maxLineBytes = JsonlReader.DefaultMaxLineBytes) => Read(path, maxLineBytes).ToList();

    private static SftRecord Parse(JsonlRecord line)
    {
        bool hasText = line.Has("text"), hasPrompt = line.Has("prompt");
        if (hasText && hasPrompt)
            throw line.Error(null, "has both \"text\" and \"prompt\"; an SFT line is {\"text\"} or {\"prompt\",\"completion\"}");
        if (hasText) return new SftRecord("", line.GetString("text"), true, line.FilePath, line.Line);
        if (hasPrompt) return new SftRecord(line.GetString("prompt"), line.GetString("completion"), false, line.FilePath, line.Line);
        throw line.Error("text", "is missing (an SFT line is {\"text\"} or {\"prompt\",\"completion\"})");
    }
}
