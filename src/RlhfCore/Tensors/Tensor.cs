namespace RlhfCore.Tensors;

/// <summary>
/// A handle to device-resident memory: an address on the backend that owns it (a host pointer for
/// the CPU backend, a device pointer for CUDA), an element type and a shape. A tensor owns nothing;
/// its memory belongs to an arena or a <see cref="DeviceBuffer"/>. The host reads values only through
/// an explicit <see cref="Backends.IBackend.Download{T}"/>.
/// </summary>
public readonly struct Tensor
{
    /// <summary>Address of the first element on the owning backend.</summary>
    public readonly nint Address;
    /// <summary>Element type.</summary>
    public readonly DType DType;
    /// <summary>Dimensions, outermost first. Never mutated after construction.</summary>
    public readonly int[] Shape;
    /// <summary>Total number of elements.</summary>
    public readonly long Length;

    /// <summary>Wraps <paramref name="address"/> as a tensor of <paramref name="shape"/>.</summary>
    public Tensor(nint address, DType dtype, int[] shape)
    {
        Address = address;
        DType = dtype;
        Shape = shape;
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            n = checked(n * d);
        }
        Length = n;
    }

    /// <summary>The empty tensor, used for optional arguments (for example a matmul without bias).</summary>
    public static Tensor None => default;

    /// <summary>True when this is <see cref="None"/>.</summary>
    public bool IsNone => Address == 0;

    /// <summary>Size in bytes.</summary>
    public long Bytes => Length * DTypeInfo.SizeOf(DType);

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape?.Length ?? 0;

    /// <summary>A view of the same memory with another shape of the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var t = new Tensor(Address, DType, shape);
        if (t.Length != Length)
            throw new ArgumentException($"cannot reshape [{string.Join(", ", Shape!)}] to [{string.Join(", ", shape)}]");
        return t;
    }

    /// <summary>
    /// A view of <paramref name="count"/> elements starting at element <paramref name="offset"/>, shaped
    /// <paramref name="shape"/> (one dimension of <paramref name="count"/> when omitted).
    /// </summary>
    public Tensor Slice(long offset, long count, int[]? shape = null)
    {
        if (offset < 0 || count < 0 || offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"slice [{offset}, {offset + count}) outside a tensor of {Length} elements");
        shape ??= [checked((int)count)];
        var t = new Tensor(Address + (nint)(offset * DTypeInfo.SizeOf(DType)), DType, shape);
        if (t.Length != count) throw new ArgumentException("slice shape does not match its element count");
        return t;
    }

    /// <inheritdoc/>
    public override string ToString() => IsNone ? "Tensor.None" : $"Tensor<{DType}>[{string.Join(", ", Shape)}]";
}
