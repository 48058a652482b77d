using RlhfCore.Data;

namespace RlhfCore.Embedding;

/// <summary>A tokenizer behind an <c>rlhf_tokenizer</c> handle (tokenizers are immutable and thread-safe).</summary>
internal sealed class EmbeddedTokenizer(ITokenizer tokenizer)
{
    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; } = tokenizer;
}
