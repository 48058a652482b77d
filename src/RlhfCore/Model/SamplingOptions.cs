namespace RlhfCore.Model;

/// <summary>How <see cref="GptGenerator"/> samples.</summary>
/// <param name="MaxNewTokens">Upper bound on generated tokens per row (also bounded by the context).</param>
/// <param name="Temperature">Softmax temperature; 0 means greedy (argmax).</param>
/// <param name="TopK">Keep only the k most likely tokens; 0 turns it off.</param>
/// <param name="TopP">Keep the smallest set of most likely tokens with total probability ≥ p; 1 turns it off.</param>
/// <param name="EosToken">A row stops after emitting this token; null never stops early.</param>
public sealed record SamplingOptions(int MaxNewTokens = 64, float Temperature = 1f, int TopK = 0, float TopP = 1f, int? EosToken = null)
{
    /// <summary>Throws naming the field when a value is out of range.</summary>
    public SamplingOptions Validate()
    {
        if (MaxNewTokens < 1) throw new ArgumentException($"MaxNewTokens must be positive, got {MaxNewTokens}");
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"Temperature must be ≥ 0, got {Temperature}");
        if (TopK < 0) throw new ArgumentException($"TopK must be ≥ 0, got {TopK}");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"TopP must be in (0, 1], got {TopP}");
        return this;
    }
}

/// <summary>What one row of a generation produced.</summary>
/// <param name="Tokens">The new tokens, the EOS token included when the row stopped on it.</param>
/// <param name="StoppedAtEos">True when the row emitted the EOS token; false when it ran out of tokens or context.</param>
public sealed record GeneratedSequence(int[] Tokens, bool StoppedAtEos);
