using System.Text.Json;
using RlhfCore.Data;
using RlhfCore.IO;

namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// The K-wise files of the pipeline. Items to rank: <c>{"prompt","completions":[…K]}</c> per line.
/// Judged rankings: <c>{"prompt","ranked":[…K, best first],"ranks":[tie group of each]}</c> per line. Every
/// line of one file has the same K; a line whose K differs is an error naming the file and line.
/// </summary>
public static class RankingFiles
{
    /// <summary>Writes <paramref name="items"/>, atomically.</summary>
    public static void WriteItems(string path, IEnumerable<RankingItem> items) =>
        AtomicFile.Write(path, s =>
        {
            foreach (var item in items)
                s.Write(JsonLine.Build(w =>
                {
                    w.WriteString("prompt", item.Prompt);
                    w.WriteStartArray("completions");
                    foreach (var c in item.Completions) w.WriteStringValue(c);
                    w.WriteEndArray();
                }));
        });

    /// <summary>The items of <paramref name="path"/>; every line must hold <paramref name="k"/> completions (or, when null, as many as the first line).</summary>
    public static List<RankingItem> ReadItems(string path, int? k = null)
    {
        var items = new List<RankingItem>();
        int? first = k;
        foreach (var r in JsonlReader.Read(path))
        {
            var completions = Strings(r, "completions");
            CheckK(r, "completions", completions.Count, ref first, k != null);
            items.Add(new RankingItem(r.GetString("prompt"), completions));
        }
        if (items.Count == 0) throw new DataFormatException(path, null, null, "holds no items to rank");
        return items;
    }

    /// <summary>Writes <paramref name="rankings"/>, atomically.</summary>
    public static void WriteRankings(string path, IEnumerable<RankingRecord> rankings) =>
        AtomicFile.Write(path, s =>
        {
            foreach (var r in rankings)
                s.Write(JsonLine.Build(w =>
                {
                    w.WriteString("prompt", r.Prompt);
                    w.WriteStartArray("ranked");
                    foreach (var c in r.Ranked) w.WriteStringValue(c);
                    w.WriteEndArray();
                    w.WriteStartArray("ranks");
                    foreach (var g in r.Ranks) w.WriteNumberValue(g);
                    w.WriteEndArray();
                }));
        });

    /// <summary>The rankings of <paramref name="path"/>; every line must rank the same K completions as the first.</summary>
    public static List<RankingRecord> ReadRankings(string path)
    {
        var result = new List<RankingRecord>();
        int? first = null;
        foreach (var r in JsonlReader.Read(path))
        {
            var ranked = Strings(r, "ranked");
            CheckK(r, "ranked", ranked.Count, ref first, expected: false);
            if (!r.Root.TryGetProperty("ranks", out var ranksEl) || ranksEl.ValueKind != JsonValueKind.Array)
                throw r.Error("ranks", "is missing or not an array of tie groups");
            var ranks = new List<int>();
            foreach (var e in ranksEl.EnumerateArray())
                ranks.Add(e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out int g) ? g : throw r.Error("ranks", $"entry {ranks.Count} is not an integer"));
            if (ranks.Count != ranked.Count) throw r.Error("ranks", $"has {ranks.Count} entries for {ranked.Count} ranked completions");
            for (int i = 0; i < ranks.Count; i++)
                if (i == 0 ? ranks[0] != 0 : ranks[i] != ranks[i - 1] && ranks[i] != ranks[i - 1] + 1)
                    throw r.Error("ranks", $"entry {i} is {ranks[i]}; tie groups start at 0 and go up by at most 1, best first");
            result.Add(new RankingRecord(r.GetString("prompt"), ranked, ranks));
        }
        if (result.Count == 0) throw new DataFormatException(path, null, null, "holds no rankings");
        return result;
    }

    private static void CheckK(JsonlRecord r, string field, int count, ref int? first, bool expected)
    {
        if (count < 2) throw r.Error(field, $"has {count} completion(s); a ranking needs K ≥ 2");
        if (first is int k && count != k)
            throw r.Error(field, expected ? $"has {count} completions; this run ranks K = {k} (--completions-per-prompt)"
                : $"has {count} completions, but the file's first line has {k}; every line of a ranking file ranks the same K");
        first ??= count;
    }

    private static List<string> Strings(JsonlRecord r, string field)
    {
        if (!r.Root.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw r.Error(field, "is missing or not an array of strings");
        var list = new List<string>();
        foreach (var e in array.EnumerateArray())
            list.Add(e.ValueKind == JsonValueKind.String ? e.GetString()! : throw r.Error(field, $"entry {list.Count} is not a string (got {e.ValueKind})"));
        return list;
    }
}
