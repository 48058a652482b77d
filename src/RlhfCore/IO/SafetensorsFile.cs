using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RlhfCore.IO;

/// <summary>
/// An open, fully validated safetensors file. Opening reads and checks only the header; tensor data
/// is read on request, so a large checkpoint is never held in memory whole. Every failure is a
/// <see cref="SafetensorsException"/> naming the file and tensor.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private readonly long _dataStart;

    /// <summary>Path the file was opened from.</summary>
    public string Path { get; }

    /// <summary>The tensors, in the order of their data in the file.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> strings (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, SafeFileHandle handle, List<SafetensorsEntry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        _handle = handle;
        Entries = entries;
        Metadata = metadata;
        _dataStart = dataStart;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
    }

    /// <summary>Opens <paramref name="path"/> and validates its header against the file size.</summary>
    public static SafetensorsFile Open(string path)
    {
        SafeFileHandle handle;
        try { handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SafetensorsException(path, null, $"cannot open: {e.Message}", e);
        }
        try
        {
            long fileBytes = RandomAccess.GetLength(handle);
            Span<byte> prefix = stackalloc byte[8];
            if (fileBytes < 8) throw new SafetensorsException(path, null, $"file is {fileBytes} bytes, too small for the 8-byte header length");
            ReadExactly(path, null, handle, prefix, 0);
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            // Both checks come before any allocation: the length is untrusted until it fits the file.
            if (n > SafetensorsHeader.MaxHeaderBytes)
                throw new SafetensorsException(path, null, $"header length {n} exceeds the {SafetensorsHeader.MaxHeaderBytes}-byte limit (corrupt length?)");
            if ((long)n > fileBytes - 8)
                throw new SafetensorsException(path, null, $"header length {n} is larger than the {fileBytes - 8} bytes after it (truncated file?)");
            var header = new byte[n];
            ReadExactly(path, null, handle, header, 8);
            long dataStart = 8 + (long)n;
            var (entries, metadata) = SafetensorsHeader.Parse(path, header, fileBytes - dataStart);
            return new SafetensorsFile(path, handle, entries, metadata, dataStart);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>True when the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The entry for <paramref name="name"/>, or an error listing what the file holds.</summary>
    public SafetensorsEntry this[string name] => _byName.TryGetValue(name, out var e) ? e
        : throw new SafetensorsException(Path, name, $"no such tensor; the file holds {_byName.Count} tensors");

    /// <summary>The raw little-endian bytes of a tensor.</summary>
    public byte[] ReadBytes(string name)
    {
        var e = this[name];
        if (e.ByteCount > Array.MaxLength)
            throw new SafetensorsException(Path, name, $"{e.ByteCount} bytes is too large to read into one array");
        var bytes = new byte[e.ByteCount];
        ReadExactly(Path, name, _handle, bytes, _dataStart + e.Begin);
        return bytes;
    }

    /// <summary>
    /// A floating-point tensor as F32 values: F32 as is; F16, BF16 and F64 converted (F64 rounds to nearest).
    /// Other dtypes are an error, since silently turning integers into floats hides a wrong tensor.
    /// </summary>
    public float[] ReadFloat32(string name)
    {
        var e = this[name];
        var bytes = ReadBytes(name);
        var result = new float[e.ElementCount];
        switch (e.DType)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(result);
                break;
            case SafetensorsDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)halves[i];
                break;
            case SafetensorsDType.BF16:
                // bfloat16 is the upper 16 bits of an IEEE single.
                var raw = MemoryMarshal.Cast<byte, ushort>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = BitConverter.Int32BitsToSingle(raw[i] << 16);
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (int i = 0; i < result.Length; i++) result[i] = (float)doubles[i];
                break;
            default:
                throw new SafetensorsException(Path, name, $"dtype {e.DType} cannot be read as F32 (expected F32, F16, BF16 or F64)");
        }
        return result;
    }

    /// <summary>An I32 tensor's values (I32 only: wider or unsigned types could silently overflow).</summary>
    public int[] ReadInt32(string name)
    {
        var e = this[name];
        if (e.DType != SafetensorsDType.I32)
            throw new SafetensorsException(Path, name, $"dtype {e.DType} cannot be read as I32");
        return MemoryMarshal.Cast<byte, int>(ReadBytes(name)).ToArray();
    }

    private static void ReadExactly(string path, string? name, SafeFileHandle handle, Span<byte> dst, long offset)
    {
        while (dst.Length > 0)
        {
            int n = RandomAccess.Read(handle, dst, offset);
            if (n == 0) throw new SafetensorsException(path, name, $"unexpected end of file at byte {offset} (file changed while reading?)");
            dst = dst[n..];
            offset += n;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
