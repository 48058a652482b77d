namespace RlhfCore.Backends;

/// <summary>The argument checks every backend's <see cref="IBackend.SampleTokens"/> makes, in one place.</summary>
internal static class SamplingArguments
{
    /// <summary>Throws naming the argument when a sampling setting is out of range.</summary>
    public static void Validate(int V, float temperature, int topK, float topP)
    {
        if (V < 1) throw new ArgumentOutOfRangeException(nameof(V), V, "vocabulary size must be positive");
        if (!(temperature >= 0f) || float.IsPositiveInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be finite and ≥ 0 (0 = greedy)");
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k must be ≥ 0 (0 = off)");
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentOutOfRangeException(nameof(topP), topP, "top-p must be in (0, 1] (1 = off)");
    }
}
