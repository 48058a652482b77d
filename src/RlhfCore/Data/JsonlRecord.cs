using System.Text.Json;

namespace RlhfCore.Data;

/// <summary>One JSON object from a JSONL file, with accessors whose errors name the file, line and field.</summary>
/// <param name="FilePath">The file the line came from.</param>
/// <param name="Line">1-based line number.</param>
/// <param name="Root">The parsed object.</param>
public readonly record struct JsonlRecord(string FilePath, int Line, JsonElement Root)
{
    /// <summary>True when the object has <paramref name="field"/> (whatever its type, null included).</summary>
    public bool Has(string field) => Root.TryGetProperty(field, out _);

    /// <summary>The string value of <paramref name="field"/>.</summary>
    /// <exception cref="DataFormatException">The field is missing or is not a string.</exception>
    public string GetString(string field)
    {
        if (!Root.TryGetProperty(field, out var value)) throw Error(field, "is missing");
        return value.ValueKind == JsonValueKind.String ? value.GetString()!
            : throw Error(field, $"is not a string (got {value.ValueKind})");
    }

    /// <summary>An exception about <paramref name="field"/> (or the whole line when null) on this line.</summary>
    public DataFormatException Error(string? field, string problem) => new(FilePath, Line, field, problem);
}
