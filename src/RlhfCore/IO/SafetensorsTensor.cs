using System.Runtime.InteropServices;

namespace RlhfCore.IO;

/// <summary>
/// A tensor to write: its header fields and a callback that writes exactly its bytes (little-endian)
/// when the writer reaches it, so large tensors can be streamed from a device one at a time.
/// </summary>
/// <param name="Name">Tensor name (unique, not <c>__metadata__</c>).</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="WriteData">Writes the data; the writer checks the byte count.</param>
public sealed record SafetensorsTensor(string Name, SafetensorsDType DType, long[] Shape, Action<Stream> WriteData)
{
    /// <summary>An F32 tensor from host values.</summary>
    public static SafetensorsTensor FromFloat32(string name, long[] shape, float[] values) =>
        new(name, SafetensorsDType.F32, shape, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>An I32 tensor from host values.</summary>
    public static SafetensorsTensor FromInt32(string name, long[] shape, int[] values) =>
        new(name, SafetensorsDType.I32, shape, s => s.Write(MemoryMarshal.AsBytes(values.AsSpan())));

    /// <summary>A tensor of any dtype from its raw little-endian bytes.</summary>
    public static SafetensorsTensor FromBytes(string name, SafetensorsDType dtype, long[] shape, byte[] bytes) =>
        new(name, dtype, shape, s => s.Write(bytes));
}
