using System.Buffers.Binary;

namespace RlhfCore.IO;

/// <summary>The 256-int32 header that starts llm.c's checkpoint and token files.</summary>
internal static class LlmcHeader
{
    /// <summary>Header size in int32s.</summary>
    public const int Ints = 256;

    /// <summary>Header size in bytes.</summary>
    public const int Bytes = Ints * 4;

    /// <summary>Reads the header of <paramref name="path"/> and the file's length; a file shorter than a header is an error.</summary>
    public static int[] Read(string path, string what, out long fileBytes)
    {
        using var fs = OpenRead(path, what);
        fileBytes = fs.Length;
        if (fileBytes < Bytes)
            throw new CheckpointException(path, $"{fileBytes} bytes is too small for an llm.c {what} (the header alone is {Bytes} bytes)");
        var raw = new byte[Bytes];
        fs.ReadExactly(raw);
        var header = new int[Ints];
        for (int i = 0; i < Ints; i++) header[i] = BinaryPrimitives.ReadInt32LittleEndian(raw.AsSpan(i * 4));
        return header;
    }

    /// <summary>Opens for reading, turning a missing or unreadable file into a <see cref="CheckpointException"/>.</summary>
    public static FileStream OpenRead(string path, string what)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot open llm.c {what}: {e.Message}", e);
        }
    }

    /// <summary>Writes a header whose leading ints are <paramref name="fields"/> and the rest zero.</summary>
    public static void Write(Stream s, params int[] fields)
    {
        var raw = new byte[Bytes];
        for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(raw.AsSpan(i * 4), fields[i]);
        s.Write(raw);
    }
}
