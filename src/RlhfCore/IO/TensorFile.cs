using System.Runtime.InteropServices;
using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.IO;

/// <summary>
/// Named device tensors saved to and loaded from a safetensors file as they are (no renaming or
/// transposing): training state such as AdamW moments (<c>adam.m.&lt;param&gt;</c>), RNG counters, step.
/// </summary>
public static class TensorFile
{
    /// <summary>Every tensor of <paramref name="arena"/>, named <paramref name="prefix"/> + its table name.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Named(string prefix, TensorArena arena) =>
        arena.Specs.Select((s, i) => (prefix + s.Name, arena.Tensors[i]));

    /// <summary>Writes <paramref name="tensors"/> (F32 or I32, on <paramref name="backend"/>) atomically to <paramref name="path"/>.</summary>
    public static void SaveTensors(string path, IBackend backend, IEnumerable<(string Name, Tensor Tensor)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = new List<SafetensorsTensor>();
        foreach (var (name, t) in tensors)
        {
            long[] shape = t.Shape.Select(d => (long)d).ToArray();
            list.Add(t.DType switch
            {
                DType.F32 => new SafetensorsTensor(name, SafetensorsDType.F32, shape, s => s.Write(MemoryMarshal.AsBytes(Download<float>(backend, t).AsSpan()))),
                DType.I32 => new SafetensorsTensor(name, SafetensorsDType.I32, shape, s => s.Write(MemoryMarshal.AsBytes(Download<int>(backend, t).AsSpan()))),
                _ => throw new ArgumentException($"tensor '{name}' has unsupported dtype {t.DType}"),
            });
        }
        SafetensorsWriter.Write(path, list, metadata);
    }

    /// <summary>
    /// Fills each of <paramref name="tensors"/> from the tensor of the same name in <paramref name="path"/>;
    /// each must exist with the same shape (F32 targets also accept F16, BF16 and F64). Returns the file's metadata.
    /// </summary>
    /// <exception cref="CheckpointException">A tensor is missing or has another shape or dtype.</exception>
    public static IReadOnlyDictionary<string, string> LoadTensors(string path, IBackend backend, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        using var file = SafetensorsFile.Open(path);
        foreach (var (name, t) in tensors)
        {
            if (!file.Contains(name)) throw new CheckpointException(path, $"missing tensor '{name}' (expected shape [{string.Join(", ", t.Shape)}])");
            var e = file[name];
            if (!e.Shape.SequenceEqual(t.Shape.Select(d => (long)d)))
                throw new CheckpointException(path, $"tensor '{name}' has shape {e.ShapeText}, expected [{string.Join(", ", t.Shape)}]");
            if (t.DType == DType.F32) backend.Upload<float>(t, file.ReadFloat32(name));
            else if (t.DType == DType.I32) backend.Upload<int>(t, file.ReadInt32(name));
            else throw new ArgumentException($"tensor '{name}' has unsupported dtype {t.DType}");
        }
        return file.Metadata;
    }

    private static T[] Download<T>(IBackend backend, Tensor t) where T : unmanaged
    {
        var values = new T[t.Length];
        backend.Download<T>(t, values);
        return values;
    }
}
