namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>Bootstrap resampling: n indices drawn uniformly with replacement from [0, n), seeded.</summary>
public static class Bootstrap
{
    /// <summary>The resample of <paramref name="items"/> that <paramref name="seed"/> draws (same length, with repeats).</summary>
    public static List<T> Resample<T>(IReadOnlyList<T> items, ulong seed)
    {
        var rng = new Rng(seed ^ 0xB0075EEDUL);
        var result = new List<T>(items.Count);
        for (int i = 0; i < items.Count; i++) result.Add(items[rng.NextInt(items.Count)]);
        return result;
    }
}
