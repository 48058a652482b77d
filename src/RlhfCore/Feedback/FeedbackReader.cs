using System.Text.Json;
using RlhfCore.Data;

namespace RlhfCore.Feedback;

/// <summary>
/// Reads human-feedback JSONL (plain or <c>.gz</c>) in TRL's layouts (see <see cref="FeedbackKind"/>).
/// The kind is given, or detected from the first line's keys; every later line must be of the same kind.
/// Malformed lines (not JSON, a missing field, a wrong type, a non-numeric rating) are errors naming the
/// file, line and field. Records with bad content (<see cref="FeedbackValidation"/>) are errors too, or
/// are left out and listed when <c>skipInvalid</c> is set — real data has a few (HH has whitespace-only
/// responses). Keys the layout does not use are ignored.
/// </summary>
public static class FeedbackReader
{
    /// <summary>Parses a <c>--kind</c> value: <c>auto</c> (null) or a <see cref="FeedbackKind"/> name, any case.</summary>
    public static FeedbackKind? ParseKind(string value) =>
        value.Equals("auto", StringComparison.OrdinalIgnoreCase) ? null
        : Enum.TryParse<FeedbackKind>(value, ignoreCase: true, out var k) && Enum.IsDefined(k) ? k
        : throw new ArgumentException($"unknown feedback kind '{value}' (auto, {string.Join(", ", Enum.GetNames<FeedbackKind>().Select(n => n.ToLowerInvariant()))})");

    /// <summary>Reads every record of <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">The file is unreadable, empty, mixes kinds, or a line is malformed or (without <paramref name="skipInvalid"/>) has bad content.</exception>
    /// <param name="allowEmptyCompletions">Accept empty completions (scored as prompt + EOS).</param>
    public static FeedbackSet Read(string path, FeedbackKind? kind = null, bool skipInvalid = false, bool allowEmptyCompletions = false,
        int maxLineBytes = JsonlReader.DefaultMaxLineBytes)
    {
        var records = new List<FeedbackRecord>();
        var skipped = new List<string>();
        FeedbackKind? fileKind = kind;
        foreach (var line in JsonlReader.Read(path, maxLineBytes))
        {
            var detected = Detect(line);
            if (fileKind == null)
                fileKind = detected ?? throw line.Error(null, $"has keys {Keys(line)}, which match no feedback layout ({Layouts})");
            else if (kind == null && detected != fileKind)
                // A line of no layout lacks some of the file's fields: name them rather than call it "unrecognized".
                throw detected == null
                    ? MissingError(line, fileKind.Value, MissingFields(line, fileKind.Value))
                    : line.Error(null, $"is a {Name(detected)} record but the file's first line is {Name(fileKind)}; a feedback file holds one kind");
            var record = Parse(line, fileKind.Value) with { FilePath = line.FilePath, Line = line.Line };
            if (FeedbackValidation.Check(record, allowEmptyCompletions) is var (field, problem))
            {
                if (!skipInvalid) throw line.Error(field, problem + "; --skip-invalid leaves such records out and lists them");
                skipped.Add(line.Error(field, problem).Message);
                continue;
            }
            records.Add(record);
        }
        if (fileKind == null) throw new DataFormatException(path, null, null, "holds no feedback records");
        return new FeedbackSet(fileKind.Value, records, skipped);
    }

    /// <summary>The fields a record of <paramref name="kind"/> needs.</summary>
    private static string[] RequiredFields(FeedbackKind kind) => kind switch
    {
        FeedbackKind.Pairs => ["prompt", "chosen", "rejected"],
        FeedbackKind.Transcripts => ["chosen", "rejected"],
        FeedbackKind.Rankings => ["prompt", "completions"],
        FeedbackKind.Ratings => ["prompt", "completion", "rating"],
        FeedbackKind.Approvals => ["prompt", "completion", "label"],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static List<string> MissingFields(JsonlRecord line, FeedbackKind kind) => RequiredFields(kind).Where(f => !line.Has(f)).ToList();

    /// <summary>Names the missing fields, and the layout the file's first line set.</summary>
    private static DataFormatException MissingError(JsonlRecord line, FeedbackKind kind, List<string> missing)
    {
        string layout = $"the file's first line is a {Name(kind)} record, which needs " + string.Join(", ", RequiredFields(kind).Select(f => $"\"{f}\""));
        return missing.Count == 1
            ? line.Error(missing[0], $"is missing ({layout})")
            : line.Error(null, $"lacks fields {string.Join(", ", missing.Select(f => $"\"{f}\""))} ({layout})");
    }

    private const string Layouts = "{\"prompt\",\"chosen\",\"rejected\"}, {\"chosen\",\"rejected\"}, {\"prompt\",\"completions\"}, {\"prompt\",\"completion\",\"rating\"}, {\"prompt\",\"completion\",\"label\"}";

    /// <summary>The kind a line's keys say, or null when they match none.</summary>
    private static FeedbackKind? Detect(JsonlRecord line) =>
        line.Has("chosen") && line.Has("rejected") ? (line.Has("prompt") ? FeedbackKind.Pairs : FeedbackKind.Transcripts)
        : line.Has("completions") ? FeedbackKind.Rankings
        : line.Has("rating") ? FeedbackKind.Ratings
        : line.Has("label") ? FeedbackKind.Approvals
        : null;

    private static FeedbackRecord Parse(JsonlRecord line, FeedbackKind kind)
    {
        switch (kind)
        {
            case FeedbackKind.Pairs:
                return new PreferencePair(line.GetString("prompt"), line.GetString("chosen"), line.GetString("rejected"), Margin(line));
            case FeedbackKind.Transcripts:
            {
                string chosen = line.GetString("chosen"), rejected = line.GetString("rejected");
                var split = TranscriptSplitter.Split(chosen, rejected, out string? problem) ?? throw line.Error(null, problem!);
                return new PreferencePair(split.Prompt, split.Chosen, split.Rejected, Margin(line));
            }
            case FeedbackKind.Rankings:
            {
                string prompt = line.GetString("prompt");
                var array = Field(line, "completions");
                if (array.ValueKind != JsonValueKind.Array) throw line.Error("completions", $"is not an array (got {array.ValueKind})");
                var ranked = new List<string>();
                foreach (var item in array.EnumerateArray())
                    ranked.Add(item.ValueKind == JsonValueKind.String ? item.GetString()!
                        : throw line.Error("completions", $"entry {ranked.Count} is not a string (got {item.ValueKind})"));
                return new RankedCompletions(prompt, ranked);
            }
            case FeedbackKind.Ratings:
                return new RatedCompletion(line.GetString("prompt"), line.GetString("completion"), Number(line, "rating"));
            case FeedbackKind.Approvals:
            {
                var label = Field(line, "label");
                if (label.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    throw line.Error("label", $"is not true or false (got {Describe(label)})");
                return new LabeledCompletion(line.GetString("prompt"), line.GetString("completion"), label.GetBoolean());
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private static double Margin(JsonlRecord line) => line.Has("margin") ? Number(line, "margin") : 0;

    private static double Number(JsonlRecord line, string field)
    {
        var value = Field(line, field);
        if (value.ValueKind != JsonValueKind.Number) throw line.Error(field, $"is not a number (got {Describe(value)})");
        // System.Text.Json turns an overflowing literal such as 1e999 into ±∞; a loss target must be finite.
        if (!value.TryGetDouble(out double d) || !double.IsFinite(d)) throw line.Error(field, $"is not a finite number (got {value.GetRawText()})");
        return d;
    }

    private static JsonElement Field(JsonlRecord line, string field) =>
        line.Root.TryGetProperty(field, out var value) ? value : throw line.Error(field, "is missing");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(value.GetString()!)}\"",
        JsonValueKind.Null => "null",
        _ => $"{value.ValueKind} {Truncate(value.GetRawText())}",
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "…";

    private static string Keys(JsonlRecord line) => "{" + string.Join(",", line.Root.EnumerateObject().Select(p => $"\"{p.Name}\"")) + "}";

    private static string Name(FeedbackKind? kind) => kind?.ToString().ToLowerInvariant() ?? "unknown";
}
