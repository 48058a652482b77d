using System.Text.Json;
using RlhfCore.Data;
using RlhfCore.IO;

namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// Reads and writes the items to be judged: JSONL with <c>{"prompt","a","b"}</c> per line, or
/// <c>{"prompt","completions":[a,b]}</c> (a two-item ranking before it is ranked). This is what the
/// pipeline writes for <c>rlhf label</c>.
/// </summary>
public static class ComparisonFile
{
    /// <summary>Every item of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="DataFormatException">A line is not a comparison item; the message names the file, line and field.</exception>
    public static IReadOnlyList<ComparisonItem> Read(string path)
    {
        var items = new List<ComparisonItem>();
        foreach (var r in JsonlReader.Read(path)) items.Add(Parse(r));
        if (items.Count == 0) throw new DataFormatException(path, null, null, "holds no comparison items");
        return items;
    }

    private static ComparisonItem Parse(JsonlRecord r)
    {
        string prompt = r.GetString("prompt");
        if (!r.Root.TryGetProperty("completions", out var completions))
        {
            if (!r.Has("a") && !r.Has("b")) throw r.Error(null, "needs \"a\" and \"b\", or \"completions\": [a, b]");
            return new ComparisonItem(prompt, r.GetString("a"), r.GetString("b"));
        }
        if (completions.ValueKind != JsonValueKind.Array) throw r.Error("completions", $"is not an array (got {completions.ValueKind})");
        if (completions.GetArrayLength() != 2) throw r.Error("completions", $"has {completions.GetArrayLength()} entries; a comparison needs exactly 2");
        var texts = new string[2];
        for (int i = 0; i < 2; i++)
        {
            var c = completions[i];
            texts[i] = c.ValueKind == JsonValueKind.String ? c.GetString()! : throw r.Error($"completions[{i}]", $"is not a string (got {c.ValueKind})");
        }
        return new ComparisonItem(prompt, texts[0], texts[1]);
    }

    /// <summary>Writes <paramref name="items"/> as <c>{"prompt","a","b"}</c> lines, atomically.</summary>
    public static void Write(string path, IEnumerable<ComparisonItem> items) =>
        AtomicFile.Write(path, s =>
        {
            foreach (var item in items)
                s.Write(JsonLine.Build(w =>
                {
                    w.WriteString("prompt", item.Prompt);
                    w.WriteString("a", item.A);
                    w.WriteString("b", item.B);
                }));
        });
}
