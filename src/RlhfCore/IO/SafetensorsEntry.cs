namespace RlhfCore.IO;

/// <summary>One tensor described by a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="Begin">Start of its data, in bytes from the start of the data buffer.</param>
/// <param name="End">End (exclusive) of its data, in bytes from the start of the data buffer.</param>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    /// <summary>Size of the data in bytes.</summary>
    public long ByteCount => End - Begin;

    /// <summary>Number of elements (the product of the shape; 1 for a scalar).</summary>
    public long ElementCount => ByteCount / SafetensorsDTypeInfo.SizeOf(DType);

    /// <summary>The shape as text, for messages: <c>[2, 6]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
