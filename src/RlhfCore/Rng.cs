namespace RlhfCore;

/// <summary>
/// xoshiro256** with SplitMix64 seeding: a small, fast generator whose whole state is four words, so
/// a checkpoint can save it and a resumed run continues the exact stream (System.Random cannot).
/// </summary>
public sealed class Rng : IUniformSource
{
    private ulong _s0, _s1, _s2, _s3;

    /// <summary>A generator seeded from <paramref name="seed"/>.</summary>
    public Rng(ulong seed)
    {
        var seeder = new SplitMix64(seed);
        _s0 = seeder.NextUInt64(); _s1 = seeder.NextUInt64(); _s2 = seeder.NextUInt64(); _s3 = seeder.NextUInt64();
    }

    private Rng(ulong[] state) => State = state;

    /// <summary>The four state words (for checkpoints); setting it restores the stream.</summary>
    public ulong[] State
    {
        get => [_s0, _s1, _s2, _s3];
        set
        {
            if (value.Length != 4 || (value[0] | value[1] | value[2] | value[3]) == 0)
                throw new ArgumentException("an Rng state is four words, not all zero");
            (_s0, _s1, _s2, _s3) = (value[0], value[1], value[2], value[3]);
        }
    }

    /// <summary>A generator continuing from a saved <see cref="State"/>.</summary>
    public static Rng FromState(ulong[] state) => new(state);

    /// <summary>The next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) as a float (24 bits, never rounds up to 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, n).</summary>
    public int NextInt(int n) => IUniformSource.MultiplyShift(NextUInt64(), n);

    /// <summary>Standard normal by Box–Muller (one value per call, so the state stays a plain stream).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(), u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
