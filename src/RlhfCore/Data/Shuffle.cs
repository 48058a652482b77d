namespace RlhfCore.Data;

/// <summary>The one Fisher–Yates shuffle: every seeded permutation in the engine (epochs, minibatches, splits) goes through it.</summary>
public static class Shuffle
{
    /// <summary>
    /// Shuffles <paramref name="items"/> in place, from the last item down, swapping item i with a uniform pick
    /// from [0, i]. Generic over the source so a struct generator is neither boxed nor copied.
    /// </summary>
    public static void InPlace<T, TSource>(Span<T> items, ref TSource source) where TSource : IUniformSource
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = source.NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
