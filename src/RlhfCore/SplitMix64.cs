namespace RlhfCore;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood): a 64-bit counter stepped by the golden-ratio increment and mixed. It
/// seeds <see cref="Rng"/>'s four state words, and drives <see cref="Data.ShuffleSampler"/>'s per-epoch
/// permutations, which must be recomputable from (seed, epoch) alone. A struct, so a stream costs no allocation.
/// </summary>
public struct SplitMix64(ulong state) : IUniformSource
{
    /// <summary>The golden-ratio increment, 2^64 / φ.</summary>
    public const ulong Increment = 0x9E3779B97F4A7C15UL;

    private ulong _state = state;

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong z = _state += Increment;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <inheritdoc/>
    public int NextInt(int n) => IUniformSource.MultiplyShift(NextUInt64(), n);
}
