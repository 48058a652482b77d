using System.Buffers.Binary;

namespace RlhfCore.IO;

/// <summary>
/// llm.c's token shards (<c>*.bin</c> from its data scripts): a 256-int32 header (magic 20240520,
/// version 1, token count), then the tokens as little-endian uint16.
/// </summary>
public static class LlmcTokenShard
{
    /// <summary>Header magic number.</summary>
    public const int Magic = 20240520;

    /// <summary>The only version: uint16 tokens.</summary>
    public const int Version = 1;

    /// <summary>Reads all tokens of <paramref name="path"/>, checking magic, version and that the size matches the count exactly.</summary>
    /// <exception cref="CheckpointException">A bad header or a file size that does not match the token count.</exception>
    public static int[] Read(string path)
    {
        var header = LlmcHeader.Read(path, "token shard", out long fileBytes);
        if (header[0] != Magic)
            throw new CheckpointException(path, $"bad magic {header[0]} in header[0]; an llm.c token shard starts with {Magic}");
        if (header[1] != Version)
            throw new CheckpointException(path, $"unsupported token shard version {header[1]} in header[1]; only version {Version} (uint16 tokens) is supported");
        int count = header[2];
        long expected = LlmcHeader.Bytes + 2L * count;
        if (count < 0 || fileBytes != expected)
            throw new CheckpointException(path, $"header[2] says {count} tokens, which needs a file of {expected} bytes, but the file is {fileBytes} bytes");

        using var fs = LlmcHeader.OpenRead(path, "token shard");
        fs.Seek(LlmcHeader.Bytes, SeekOrigin.Begin);
        var raw = new byte[2L * count];
        fs.ReadExactly(raw);
        var tokens = new int[count];
        for (int i = 0; i < count; i++) tokens[i] = BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2 * i));
        return tokens;
    }

    /// <summary>Writes <paramref name="tokens"/> (each in [0, 65535]) as an llm.c token shard, atomically.</summary>
    public static void Write(string path, IReadOnlyList<int> tokens)
    {
        var raw = new byte[2L * tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            if ((uint)tokens[i] > ushort.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {i} is {tokens[i]}; llm.c shards hold uint16 ids (0..65535)");
            BinaryPrimitives.WriteUInt16LittleEndian(raw.AsSpan(2 * i), (ushort)tokens[i]);
        }
        AtomicFile.Write(path, fs =>
        {
            LlmcHeader.Write(fs, Magic, Version, tokens.Count);
            fs.Write(raw);
        });
    }
}
