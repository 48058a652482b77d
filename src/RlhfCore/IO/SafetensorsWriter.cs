using System.Buffers.Binary;

namespace RlhfCore.IO;

/// <summary>
/// Writes safetensors files as Hugging Face does: tensors in the given order, the header padded with
/// spaces to an 8-byte boundary, optional string metadata. The write is atomic (<see cref="AtomicFile"/>):
/// an error part-way never damages an existing file.
/// </summary>
public static class SafetensorsWriter
{
    /// <summary>Writes <paramref name="tensors"/> and <paramref name="metadata"/> to <paramref name="path"/>.</summary>
    /// <exception cref="SafetensorsException">A bad name or shape, or a tensor callback that wrote the wrong number of bytes.</exception>
    public static void Write(string path, IReadOnlyList<SafetensorsTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = new List<SafetensorsEntry>(tensors.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var t in tensors)
        {
            if (string.IsNullOrEmpty(t.Name) || t.Name == SafetensorsHeader.MetadataKey)
                throw new SafetensorsException(path, t.Name, "tensor name must be non-empty and not __metadata__");
            if (!names.Add(t.Name)) throw new SafetensorsException(path, t.Name, "duplicate tensor name");
            if (t.Shape.Any(d => d < 0)) throw new SafetensorsException(path, t.Name, "shape has a negative dimension");
            long bytes = SafetensorsHeader.ByteSize(path, t.Name, t.DType, t.Shape);
            entries.Add(new SafetensorsEntry(t.Name, t.DType, (long[])t.Shape.Clone(), offset, checked(offset + bytes)));
            offset += bytes;
        }
        byte[] header = SafetensorsHeader.Build(entries, metadata);

        AtomicFile.Write(path, fs =>
        {
            Span<byte> prefix = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
            fs.Write(prefix);
            fs.Write(header);
            long dataStart = fs.Position;
            for (int i = 0; i < tensors.Count; i++)
            {
                tensors[i].WriteData(fs);
                long written = fs.Position - dataStart - entries[i].Begin;
                if (written != entries[i].ByteCount)
                    throw new SafetensorsException(path, entries[i].Name,
                        $"data callback wrote {written} bytes, but dtype {entries[i].DType} and shape {entries[i].ShapeText} need {entries[i].ByteCount}");
            }
        });
    }
}
