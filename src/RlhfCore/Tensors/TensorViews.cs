namespace RlhfCore.Tensors;

/// <summary>Views of a tensor that a training step takes without allocating.</summary>
public static class TensorViews
{
    /// <summary>
    /// The first <paramref name="count"/> elements of <paramref name="t"/>, for transfers and kernels that take
    /// their sizes as arguments: <paramref name="t"/> itself when it holds exactly that many (no allocation: a
    /// full batch), else a 1-D <see cref="Tensor.Slice"/> (which allocates its shape).
    /// </summary>
    public static Tensor Head(this Tensor t, long count) => t.Length == count ? t : t.Slice(0, count);
}
