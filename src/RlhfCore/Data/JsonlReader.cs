using System.Text.Json;

namespace RlhfCore.Data;

/// <summary>
/// Streams a JSON Lines file one object per line (blank lines skipped, <c>.gz</c> decompressed by
/// extension and checked by <see cref="CheckedGzipStream"/>). Decoding is strict: invalid UTF-8 is an
/// error naming the line and byte offset, and a line longer than the limit is an error as soon as the
/// limit is passed, so memory stays bounded by the limit. Each bad line is one
/// <see cref="DataFormatException"/> naming the file and line.
/// </summary>
public static class JsonlReader
{
    /// <summary>
    /// Default longest line: 16 MiB, about 2,000× the longest line (7,933 bytes) of the HH test file in the
    /// shared data (<c>zcat harmless-base-test.jsonl.gz | awk '{ if (length($0) > m) m = length($0) } END { print m }'</c>).
    /// </summary>
    public const int DefaultMaxLineBytes = 16 << 20;

    /// <summary>Largest limit a caller may set: 1 GiB, the most one array holds with room to parse it.</summary>
    public const int MaxLineBytesLimit = 1 << 30;

    /// <summary>The objects of <paramref name="path"/> in file order, read lazily.</summary>
    /// <param name="path">A <c>.jsonl</c> file, or <c>.jsonl.gz</c>.</param>
    /// <param name="maxLineBytes">Longest line accepted, in bytes.</param>
    /// <exception cref="DataFormatException">The file cannot be read or is corrupt gzip, a line is too long, not UTF-8, not valid JSON, or not an object.</exception>
    public static IEnumerable<JsonlRecord> Read(string path, int maxLineBytes = DefaultMaxLineBytes)
    {
        if (maxLineBytes is < 1 or > MaxLineBytesLimit)
            throw new ArgumentOutOfRangeException(nameof(maxLineBytes), maxLineBytes, $"must be in [1, {MaxLineBytesLimit}]");
        // Open eagerly so a missing file fails at the call, not at the first MoveNext.
        var stream = Open(path);
        return ReadLines(path, stream, maxLineBytes);
    }

    private static IEnumerable<JsonlRecord> ReadLines(string path, Stream stream, int maxLineBytes)
    {
        using (stream)
        {
            var lines = new LineReader(stream, path, maxLineBytes);
            string where = stream is CheckedGzipStream ? "decompressed data" : "file";
            while (lines.TryReadLine(out var line))
            {
                int bad = StrictUtf8.FindInvalid(line.Span);
                if (bad >= 0)
                    throw new DataFormatException(path, lines.LineNumber, null,
                        $"invalid UTF-8 at byte {bad:N0} of the line (byte {lines.LineOffset + bad:N0} of the {where}; byte 0x{line.Span[bad]:x2})");
                if (IsBlank(line.Span)) continue;
                JsonElement root;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    root = doc.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new DataFormatException(path, lines.LineNumber, null, $"invalid JSON: {e.Message}", e);
                }
                if (root.ValueKind != JsonValueKind.Object)
                    throw new DataFormatException(path, lines.LineNumber, null, $"expected a JSON object, got {root.ValueKind}");
                yield return new JsonlRecord(path, lines.LineNumber, root);
            }
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\f' or (byte)'\v')) return false;
        return true;
    }

    private static Stream Open(string path)
    {
        if (Directory.Exists(path)) throw new DataFormatException(path, null, null, "is a directory, not a JSONL file");
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, null, null, $"cannot open: {e.Message}", e);
        }
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return file;
        try
        {
            return CheckedGzipStream.Open(path, file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
