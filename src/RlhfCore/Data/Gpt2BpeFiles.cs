using System.Text.Json;

namespace RlhfCore.Data;

/// <summary>
/// Reads Hugging Face's GPT-2 tokenizer files (<c>vocab.json</c>: token text → id; <c>merges.txt</c>: one
/// merge "A B" per line, by rank) into id tables, with errors naming the file and line.
/// </summary>
internal static class Gpt2BpeFiles
{
    /// <summary>Token text for each id (dense: every id 0 .. count-1 appears exactly once).</summary>
    public static string[] ReadVocab(string path)
    {
        byte[] json;
        try { json = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, null, null, $"cannot read the GPT-2 vocabulary: {e.Message}", e);
        }

        var byId = new Dictionary<int, string>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(path, null, null, $"expected a JSON object mapping token → id, got {doc.RootElement.ValueKind}");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id) || id < 0)
                    throw new DataFormatException(path, null, entry.Name, "is not a non-negative integer id");
                if (!byId.TryAdd(id, entry.Name))
                    throw new DataFormatException(path, null, entry.Name, $"reuses id {id} (already \"{byId[id]}\")");
            }
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, null, null, $"invalid JSON: {e.Message}", e);
        }

        var tokens = new string[byId.Count];
        foreach (var (id, text) in byId)
        {
            if (id >= tokens.Length)
                throw new DataFormatException(path, null, text, $"has id {id} but there are only {tokens.Length} tokens (ids must be 0 .. {tokens.Length - 1})");
            tokens[id] = text;
        }
        return tokens;
    }

    /// <summary>Merges in rank order as (left id, right id, merged id).</summary>
    public static List<(int Left, int Right, int Merged)> ReadMerges(string path, IReadOnlyDictionary<string, int> vocab)
    {
        IEnumerable<string> lines;
        try { lines = File.ReadLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, null, null, $"cannot read the GPT-2 merges: {e.Message}", e);
        }

        var merges = new List<(int, int, int)>(50_000);
        int lineNumber = 0;
        foreach (string line in lines)
        {
            lineNumber++;
            // The first line is a "#version: 0.2" header; blank lines (the final newline) carry nothing.
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new DataFormatException(path, lineNumber, null, $"expected two tokens separated by one space, got \"{line}\"");
            string left = line[..space], right = line[(space + 1)..];
            merges.Add((Lookup(left), Lookup(right), Lookup(left + right)));

            int Lookup(string token) => vocab.TryGetValue(token, out int id) ? id
                : throw new DataFormatException(path, lineNumber, null, $"token \"{token}\" of merge \"{line}\" is not in the vocabulary");
        }
        if (merges.Count == 0) throw new DataFormatException(path, null, null, "holds no merges");
        return merges;
    }
}
