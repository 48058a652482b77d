namespace RlhfCore.Rl;

/// <summary>
/// DAPO's soft overlong punishment (Yu et al. 2025, §3.4; verl's <c>overlong_buffer</c>): a response of length L
/// gets 0 up to L_max − L_cache, then a penalty falling linearly to −factor at L_max:
/// penalty = min(0, −(L − (L_max − L_cache)) / L_cache · factor). It is added to the score.
/// </summary>
/// <param name="MaxLength">L_max, the generation limit.</param>
/// <param name="CacheLength">L_cache, the soft band below L_max, in (0, L_max].</param>
/// <param name="Factor">The penalty at L_max (verl's penalty_factor, 1 in DAPO).</param>
public sealed record OverlongPenalty(int MaxLength, int CacheLength, double Factor = 1.0)
{
    /// <summary>Throws one clear error naming the setting when it is out of range.</summary>
    public void Validate()
    {
        if (MaxLength <= 0) throw new ArgumentOutOfRangeException(nameof(MaxLength), MaxLength, "overlong penalty: the max length must be positive");
        if (CacheLength <= 0 || CacheLength > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(CacheLength), CacheLength, $"overlong penalty: the cache length {CacheLength} must be in (0, max length {MaxLength}]");
        if (!double.IsFinite(Factor) || Factor < 0) throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "overlong penalty: the factor must be finite and ≥ 0");
    }

    /// <summary>The penalty (≤ 0) for a response of <paramref name="length"/> tokens (the settings are checked first).</summary>
    public double At(int length)
    {
        Validate();
        double exceed = length - (MaxLength - CacheLength);
        return Math.Min(0, -exceed / CacheLength * Factor);
    }

    /// <summary>scores[i] + penalty(lengths[i]) for every response.</summary>
    public double[] Apply(double[] scores, int[] lengths)
    {
        if (scores.Length != lengths.Length) throw new ArgumentException($"overlong penalty: {scores.Length} scores for {lengths.Length} lengths");
        var s = new double[scores.Length];
        for (int i = 0; i < s.Length; i++) s[i] = scores[i] + At(lengths[i]);
        return s;
    }
}
