namespace RlhfCore;

/// <summary>A source of uniform integers, as <see cref="Data.Shuffle"/> needs: <see cref="Rng"/> and <see cref="SplitMix64"/>.</summary>
public interface IUniformSource
{
    /// <summary>Uniform integer in [0, n).</summary>
    int NextInt(int n);

    /// <summary>
    /// Maps the high 32 of 64 random bits onto [0, n) by multiply-shift (Lemire); the bias, below 2^-32 · n, is
    /// immaterial for sampling and shuffling. Both generators use it, so a shuffle reads the same from either.
    /// </summary>
    static int MultiplyShift(ulong bits, int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "bound must be positive");
        return (int)((bits >> 32) * (ulong)n >> 32);
    }
}
