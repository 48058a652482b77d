using System.Buffers;
using System.Text;

namespace RlhfCore.Data;

/// <summary>UTF-8 decoding that refuses invalid bytes instead of replacing them with U+FFFD, and says where they are.</summary>
public static class StrictUtf8
{
    /// <summary>The strict encoding, for readers that need an <see cref="Encoding"/>.</summary>
    public static readonly UTF8Encoding Encoding = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Offset of the first byte of <paramref name="bytes"/> that is not valid UTF-8, or -1 when all are.</summary>
    public static int FindInvalid(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed) != OperationStatus.Done) return offset;
            offset += consumed;
        }
        return -1;
    }

    /// <summary>The text of a whole file, after checking every byte.</summary>
    /// <exception cref="DataFormatException">A byte sequence is not UTF-8; the message names the file, line and byte offset.</exception>
    public static string ReadAllText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int bom = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        int bad = FindInvalid(bytes.AsSpan(bom));
        if (bad >= 0)
        {
            int at = bom + bad;
            int line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');
            throw new DataFormatException(path, line, null, $"invalid UTF-8 at byte {at:N0} of the file (byte 0x{bytes[at]:x2})");
        }
        return Encoding.GetString(bytes, bom, bytes.Length - bom);
    }
}
