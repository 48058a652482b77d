using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace RlhfCore.Data;

/// <summary>Writes one compact JSON object per line, with text readable as typed (<c>17+25=</c>, not <c>17\u002B25=</c>).</summary>
internal static class JsonLine
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The object <paramref name="body"/> writes, as UTF-8 bytes ending in a newline.</summary>
    public static byte[] Build(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    /// <summary>The same as text (tests and messages).</summary>
    public static string BuildString(Action<Utf8JsonWriter> body) => Encoding.UTF8.GetString(Build(body));
}
