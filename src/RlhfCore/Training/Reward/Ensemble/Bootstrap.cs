namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>Bootstrap resampling: indices drawn uniformly with replacement from [0, n), seeded.</summary>
public static class Bootstrap
{
    /// <summary>The resample of <paramref name="items"/> that <paramref name="seed"/> draws (same length, with repeats).</summary>
    public static List<T> Resample<T>(IReadOnlyList<T> items, ulong seed) => Resample(items, seed, items.Count);

    /// <summary>An m-out-of-n resample: <paramref name="count"/> draws with replacement (the first <paramref name="count"/> of the full resample's draws).</summary>
    public static List<T> Resample<T>(IReadOnlyList<T> items, ulong seed, int count)
    {
        if (items.Count == 0) throw new ArgumentException("nothing to resample", nameof(items));
        var rng = new Rng(seed ^ 0xB0075EEDUL);
        var result = new List<T>(count);
        for (int i = 0; i < count; i++) result.Add(items[rng.NextInt(items.Count)]);
        return result;
    }
}
