using RlhfCore.Backends;

namespace RlhfCore.Tensors;

/// <summary>One row of an arena's layout table.</summary>
/// <param name="Name">Unique name, for example <c>h.3.attn.c_attn.weight</c>.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
public sealed record TensorSpec(string Name, DType DType, int[] Shape)
{
    /// <summary>Element count.</summary>
    public long Length => Shape.Aggregate(1L, (a, d) => checked(a * d));
}

/// <summary>
/// Tensors laid out back to back in one allocation from a single <c>(name, shape)</c> table, so the
/// layout of parameters and their gradients (or activations and theirs) cannot drift apart. Each
/// tensor starts on a 64-byte boundary so vector loads are aligned.
/// </summary>
public sealed class TensorArena : IDisposable
{
    /// <summary>Alignment of every tensor, in bytes.</summary>
    public const int Alignment = 64;

    private readonly DeviceBuffer? _buffer;
    private readonly Dictionary<string, int> _index;

    /// <summary>The layout table this arena was built from, in order.</summary>
    public IReadOnlyList<TensorSpec> Specs { get; }

    /// <summary>The tensors, in table order.</summary>
    public IReadOnlyList<Tensor> Tensors { get; }

    /// <summary>Byte offset of each tensor from the arena's start, in table order.</summary>
    public IReadOnlyList<long> Offsets { get; }

    /// <summary>The whole arena, padding included, as one F32 tensor (for the optimizer and norms); <see cref="Tensor.None"/> for a <see cref="View"/>.</summary>
    public Tensor All { get; }

    /// <summary>Backend that owns the memory.</summary>
    public IBackend Backend { get; }

    /// <summary>Allocates and zeroes one buffer laid out from <paramref name="specs"/>.</summary>
    public TensorArena(IBackend backend, IReadOnlyList<TensorSpec> specs)
    {
        Backend = backend;
        Specs = specs;
        _index = new Dictionary<string, int>(specs.Count);
        var offsets = new long[specs.Count];
        long offset = 0;
        for (int i = 0; i < specs.Count; i++)
        {
            if (!_index.TryAdd(specs[i].Name, i)) throw new ArgumentException($"duplicate tensor name '{specs[i].Name}' in arena table");
            offsets[i] = offset;
            long bytes = specs[i].Length * DTypeInfo.SizeOf(specs[i].DType);
            offset = checked(offset + (bytes + Alignment - 1) / Alignment * Alignment);
        }
        _buffer = backend.Allocate(Math.Max(offset, Alignment));
        All = WholeBuffer(_buffer);
        backend.Zero(All);
        var tensors = new Tensor[specs.Count];
        for (int i = 0; i < specs.Count; i++)
            tensors[i] = new Tensor(_buffer.Address + (nint)offsets[i], specs[i].DType, specs[i].Shape);
        Tensors = tensors;
        Offsets = offsets;
    }

    private TensorArena(IBackend backend, IReadOnlyList<TensorSpec> specs, IReadOnlyList<Tensor> tensors)
    {
        if (specs.Count != tensors.Count) throw new ArgumentException($"a view of {tensors.Count} tensors needs as many specs, got {specs.Count}");
        Backend = backend;
        Specs = specs;
        Tensors = tensors;
        Offsets = new long[specs.Count];
        All = Tensor.None;
        _index = new Dictionary<string, int>(specs.Count);
        for (int i = 0; i < specs.Count; i++)
        {
            if (!_index.TryAdd(specs[i].Name, i)) throw new ArgumentException($"duplicate tensor name '{specs[i].Name}' in arena view");
            if (tensors[i].Length != specs[i].Length) throw new ArgumentException($"tensor '{specs[i].Name}' has {tensors[i].Length} elements, its spec {specs[i].Length}");
        }
    }

    /// <summary>
    /// A view (owning nothing) of tensors that live elsewhere, under <paramref name="specs"/>' names: one table for an optimizer
    /// over parameters from several arenas (a model and ILQL's heads). It is not one buffer, so its <see cref="All"/> is
    /// <see cref="Tensor.None"/> and its <see cref="Offsets"/> are 0; disposing it frees nothing.
    /// </summary>
    public static TensorArena View(IBackend backend, IReadOnlyList<TensorSpec> specs, IReadOnlyList<Tensor> tensors) => new(backend, specs, tensors);

    /// <summary>A <see cref="View"/> of <paramref name="first"/>'s tensors followed by <paramref name="second"/>'s, the latter named <paramref name="secondPrefix"/> + their name.</summary>
    public static TensorArena Join(TensorArena first, TensorArena second, string secondPrefix)
    {
        if (first.Backend != second.Backend) throw new ArgumentException("joined arenas must live on the same backend");
        return new TensorArena(first.Backend, [.. first.Specs, .. second.Specs.Select(s => s with { Name = secondPrefix + s.Name })], [.. first.Tensors, .. second.Tensors]);
    }

    /// <summary>
    /// The buffer as F32: one dimension when its element count fits an int, else rows of 16 (every arena
    /// is a whole number of 64-byte blocks), so arenas over 8 GiB still have a whole-buffer view.
    /// </summary>
    private static Tensor WholeBuffer(DeviceBuffer buffer)
    {
        long floats = buffer.Bytes / 4;
        int[] shape = floats <= int.MaxValue ? [(int)floats] : [checked((int)(floats / 16)), 16];
        return new Tensor(buffer.Address, DType.F32, shape);
    }

    /// <summary>The tensor named <paramref name="name"/>.</summary>
    public Tensor this[string name] =>
        _index.TryGetValue(name, out int i) ? Tensors[i] : throw new KeyNotFoundException($"no tensor '{name}' in arena");

    /// <summary>True when the arena holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _index.ContainsKey(name);

    /// <summary>Index of <paramref name="name"/> in the table.</summary>
    public int IndexOf(string name) =>
        _index.TryGetValue(name, out int i) ? i : throw new KeyNotFoundException($"no tensor '{name}' in arena");

    /// <inheritdoc/>
    public void Dispose() => _buffer?.Dispose();
}
