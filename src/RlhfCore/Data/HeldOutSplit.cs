namespace RlhfCore.Data;

/// <summary>
/// The one held-out split of in-memory records by a fraction (SFT demonstrations, DPO pairs, reward
/// feedback): the same count rule everywhere, with the records taken from the tail (files written in a
/// meaningful order, whose last part is a fair sample) or as a seeded random subset (feedback files, often
/// sorted by prompt or source). Both keep the records' order within each part.
/// </summary>
public static class HeldOutSplit
{
    /// <summary>How many of <paramref name="total"/> records <paramref name="fraction"/> holds out: rounded, and at least one when the fraction is positive and there are two records or more.</summary>
    public static int Count(int total, double fraction)
    {
        int held = (int)Math.Round(total * fraction);
        return held == 0 && fraction > 0 && total > 1 ? 1 : held;
    }

    /// <summary>The last <see cref="Count"/> records held out, the rest for training.</summary>
    public static (List<T> Train, List<T> Eval) Tail<T>(List<T> records, double fraction)
    {
        int held = Count(records.Count, fraction);
        return (records.GetRange(0, records.Count - held), records.GetRange(records.Count - held, held));
    }

    /// <summary>
    /// A seeded random subset of <see cref="Count"/> records held out: the first ones of <see cref="ShuffleSampler"/>'s
    /// epoch-0 permutation under <paramref name="seed"/>.
    /// </summary>
    public static (List<T> Train, List<T> Eval) Random<T>(IReadOnlyList<T> records, double fraction, ulong seed)
    {
        int held = Count(records.Count, fraction);
        var isHeld = new bool[records.Count];
        if (records.Count > 0)
            foreach (int i in new ShuffleSampler(records.Count, seed).Permutation(0).AsSpan(0, held)) isHeld[i] = true;
        return (records.Where((_, i) => !isHeld[i]).ToList(), records.Where((_, i) => isHeld[i]).ToList());
    }
}
