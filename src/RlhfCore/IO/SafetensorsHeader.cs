using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace RlhfCore.IO;

/// <summary>
/// Parses and validates a safetensors header with every check the reference (Rust) reader makes,
/// plus rejection of duplicate keys, which JSON parsers otherwise resolve silently.
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>Largest header accepted, as in the reference reader: a bigger one is a corrupt length, not a model.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>The key that holds string-to-string metadata instead of a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// Validates <paramref name="header"/> against a data buffer of <paramref name="bufferBytes"/> and
    /// returns the tensors sorted by offset and the metadata.
    /// </summary>
    public static (List<SafetensorsEntry> Entries, Dictionary<string, string> Metadata) Parse(
        string path, ReadOnlyMemory<byte> header, long bufferBytes)
    {
        if (!Utf8.IsValid(header.Span)) throw new SafetensorsException(path, null, "header is not valid UTF-8");
        // The reference reader insists on '{' first (so the root is an object); trailing spaces (the writer's
        // padding) may follow the object.
        if (header.Length == 0 || header.Span[0] != (byte)'{')
            throw new SafetensorsException(path, null, "header must start with '{'");

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsException(path, null, $"header is not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var entries = new List<SafetensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(prop.Name)) throw new SafetensorsException(path, prop.Name, "duplicate key in header");
                if (prop.Name == MetadataKey) ReadMetadata(path, prop.Value, metadata);
                else entries.Add(ReadEntry(path, prop.Name, prop.Value));
            }
            CheckCoverage(path, entries, bufferBytes);
            return (entries, metadata);
        }
    }

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException(path, null, "__metadata__ must be an object of strings");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsException(path, null, $"__metadata__ value of '{m.Name}' must be a string, got {m.Value.ValueKind}");
            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                throw new SafetensorsException(path, null, $"duplicate key '{m.Name}' in __metadata__");
        }
    }

    private static SafetensorsEntry ReadEntry(string path, string name, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsException(path, name, "tensor info must be an object with dtype, shape and data_offsets");
        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var p in value.EnumerateObject())
        {
            switch (p.Name)
            {
                case "dtype" when dtypeEl == null: dtypeEl = p.Value; break;
                case "shape" when shapeEl == null: shapeEl = p.Value; break;
                case "data_offsets" when offsetsEl == null: offsetsEl = p.Value; break;
                case "dtype" or "shape" or "data_offsets":
                    throw new SafetensorsException(path, name, $"duplicate field '{p.Name}' in tensor info");
                default:
                    throw new SafetensorsException(path, name, $"unknown field '{p.Name}' in tensor info");
            }
        }
        if (dtypeEl == null || shapeEl == null || offsetsEl == null)
            throw new SafetensorsException(path, name, "tensor info must have dtype, shape and data_offsets");

        if (dtypeEl.Value.ValueKind != JsonValueKind.String || !SafetensorsDTypeInfo.TryParse(dtypeEl.Value.GetString()!, out var dtype))
            throw new SafetensorsException(path, name, $"unknown dtype {dtypeEl.Value.GetRawText()}; supported: {string.Join(", ", Enum.GetNames<SafetensorsDType>())}");

        if (shapeEl.Value.ValueKind != JsonValueKind.Array)
            throw new SafetensorsException(path, name, "shape must be an array of non-negative integers");
        var shape = new long[shapeEl.Value.GetArrayLength()];
        int i = 0;
        foreach (var d in shapeEl.Value.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long dim) || dim < 0)
                throw new SafetensorsException(path, name, $"shape entry {d.GetRawText()} is not a non-negative integer");
            shape[i++] = dim;
        }

        if (offsetsEl.Value.ValueKind != JsonValueKind.Array || offsetsEl.Value.GetArrayLength() != 2)
            throw new SafetensorsException(path, name, "data_offsets must be an array of two integers [begin, end]");
        long begin = ReadOffset(path, name, offsetsEl.Value[0]), end = ReadOffset(path, name, offsetsEl.Value[1]);
        if (begin > end) throw new SafetensorsException(path, name, $"data_offsets begin {begin} is after end {end}");

        long expected = ByteSize(path, name, dtype, shape);
        if (end - begin != expected)
            throw new SafetensorsException(path, name,
                $"data_offsets [{begin}, {end}] span {end - begin} bytes but dtype {dtype} and shape [{string.Join(", ", shape)}] need {expected}");
        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    private static long ReadOffset(string path, string name, JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out long v) || v < 0)
            throw new SafetensorsException(path, name, $"data_offsets entry {e.GetRawText()} is not a non-negative integer");
        return v;
    }

    /// <summary>dtype size × product(shape), failing cleanly on overflow instead of wrapping.</summary>
    public static long ByteSize(string path, string? name, SafetensorsDType dtype, IReadOnlyList<long> shape)
    {
        try
        {
            long n = SafetensorsDTypeInfo.SizeOf(dtype);
            foreach (long d in shape) n = checked(n * d);
            return n;
        }
        catch (OverflowException)
        {
            throw new SafetensorsException(path, name, $"shape [{string.Join(", ", shape)}] of {dtype} overflows a 64-bit byte count");
        }
    }

    /// <summary>Offsets, sorted by begin, must tile the data buffer exactly: no holes, no overlaps, nothing left over.</summary>
    private static void CheckCoverage(string path, List<SafetensorsEntry> entries, long bufferBytes)
    {
        // Zero-size tensors share their begin with a neighbour; order them first so the tiling check holds.
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.Begin != expected)
                throw new SafetensorsException(path, e.Name,
                    e.Begin < expected ? $"data_offsets [{e.Begin}, {e.End}] overlap the previous tensor, which ends at {expected}"
                                       : $"data_offsets [{e.Begin}, {e.End}] leave a hole: the previous tensor ends at {expected}");
            expected = e.End;
        }
        if (expected != bufferBytes)
            throw new SafetensorsException(path, null,
                $"tensors cover {expected} bytes of data but the file holds {bufferBytes} bytes after the header (truncated or extra data)");
    }

    /// <summary>Serializes a header, padded with spaces so the data buffer starts 8-byte aligned (as Hugging Face writes it).</summary>
    public static byte[] Build(IReadOnlyList<SafetensorsEntry> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var ms = new MemoryStream();
        // Relaxed escaping keeps names readable; the output is still plain JSON.
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                w.WriteStartObject(MetadataKey);
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            foreach (var e in entries)
            {
                w.WriteStartObject(e.Name);
                w.WriteString("dtype", e.DType.ToString());
                w.WriteStartArray("shape");
                foreach (long d in e.Shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(e.Begin);
                w.WriteNumberValue(e.End);
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        int len = (int)ms.Length, padded = (len + 7) / 8 * 8;
        var bytes = new byte[padded];
        ms.GetBuffer().AsSpan(0, len).CopyTo(bytes);
        bytes.AsSpan(len).Fill((byte)' ');
        return bytes;
    }
}
