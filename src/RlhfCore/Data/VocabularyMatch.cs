namespace RlhfCore.Data;

/// <summary>
/// The tokenizer and the model must share one vocabulary: a tokenizer with fewer ids than the model leaves ids it
/// cannot decode (a byte tokenizer on a GPT-2 model fails only when the first sampled id is printed), one with
/// more writes ids the model has no embedding for. Checked when both are loaded, before any training or sampling.
/// </summary>
public static class VocabularyMatch
{
    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming both sizes and the flags that chose them when
    /// <paramref name="tokenizer"/>'s vocabulary differs from <paramref name="modelVocab"/>.
    /// </summary>
    /// <param name="tokenizer">The tokenizer the command made from --tokenizer / --tokenizer-dir.</param>
    /// <param name="modelVocab">The model's (unpadded) vocabulary size.</param>
    /// <param name="modelSource">Where the model came from, as the user wrote it (e.g. <c>--init-from x.bin</c>).</param>
    public static void Require(ITokenizer tokenizer, int modelVocab, string modelSource)
    {
        if (tokenizer.VocabSize == modelVocab) return;
        throw new ArgumentException(
            $"the {tokenizer.Name} tokenizer (--tokenizer) has {tokenizer.VocabSize} ids but the model ({modelSource}) has a vocabulary of {modelVocab}: "
            + "use the tokenizer the model was trained with (--tokenizer, --tokenizer-dir) or a model made for this tokenizer");
    }
}
