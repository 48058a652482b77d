using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace RlhfCore.Data;

/// <summary>
/// Streams a JSON Lines file one object per line (blank lines skipped, <c>.gz</c> decompressed by
/// extension). Each bad line is one <see cref="DataFormatException"/> naming the file and line.
/// </summary>
public static class JsonlReader
{
    /// <summary>The objects of <paramref name="path"/> in file order, read lazily.</summary>
    /// <exception cref="DataFormatException">The file cannot be read, a line is not valid JSON, or is not an object.</exception>
    public static IEnumerable<JsonlRecord> Read(string path)
    {
        // Open eagerly so a missing file fails at the call, not at the first MoveNext.
        var reader = Open(path);
        return ReadLines(path, reader);
    }

    private static IEnumerable<JsonlRecord> ReadLines(string path, StreamReader reader)
    {
        using (reader)
        {
            int lineNumber = 0;
            for (string? line; (line = reader.ReadLine()) != null;)
            {
                lineNumber++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                JsonElement root;
                try
                {
                    using var doc = JsonDocument.Parse(line);
                    root = doc.RootElement.Clone();
                }
                catch (JsonException e)
                {
                    throw new DataFormatException(path, lineNumber, null, $"invalid JSON: {e.Message}", e);
                }
                if (root.ValueKind != JsonValueKind.Object)
                    throw new DataFormatException(path, lineNumber, null, $"expected a JSON object, got {root.ValueKind}");
                yield return new JsonlRecord(path, lineNumber, root);
            }
        }
    }

    private static StreamReader Open(string path)
    {
        try
        {
            Stream stream = File.OpenRead(path);
            if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) stream = new GZipStream(stream, CompressionMode.Decompress);
            return new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, null, null, $"cannot open: {e.Message}", e);
        }
    }
}
