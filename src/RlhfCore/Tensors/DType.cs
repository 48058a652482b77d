namespace RlhfCore.Tensors;

/// <summary>Element types a tensor can hold.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: parameters, activations, gradients, optimizer moments.</summary>
    F32,
    /// <summary>32-bit signed integer: token ids, positions, masks, row indices.</summary>
    I32,
}

/// <summary>Sizes of the element types.</summary>
public static class DTypeInfo
{
    /// <summary>Bytes per element of <paramref name="dtype"/>.</summary>
    public static int SizeOf(DType dtype) => dtype switch
    {
        DType.F32 => 4,
        DType.I32 => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };
}
