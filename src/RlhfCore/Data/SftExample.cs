namespace RlhfCore.Data;

/// <summary>
/// A tokenized SFT example: <c>prompt + completion + EOS</c> and which next-token targets are trained on.
/// Prompt and completion are tokenized separately, so the boundary is exact (TRL's completion-only loss).
/// </summary>
public sealed class SftExample
{
    /// <summary>The token sequence; position <c>i</c> is the input that predicts <c>Tokens[i+1]</c>.</summary>
    public int[] Tokens { get; }

    /// <summary>
    /// One entry per target (length <c>Tokens.Length - 1</c>): true when <c>Tokens[i+1]</c> is a completion
    /// token (or the final EOS), i.e. when predicting it counts in the loss.
    /// </summary>
    public bool[] LossMask { get; }

    /// <summary>Number of leading tokens that come from the prompt (0 for plain text).</summary>
    public int PromptLength { get; }

    /// <summary>Source file, for error messages.</summary>
    public string FilePath { get; }

    /// <summary>Source line (1-based), for error messages.</summary>
    public int Line { get; }

    /// <summary>Number of model inputs (<c>Tokens.Length - 1</c>): the row length it needs in a batch.</summary>
    public int InputLength => Tokens.Length - 1;

    private SftExample(int[] tokens, bool[] lossMask, int promptLength, string filePath, int line)
    {
        Tokens = tokens;
        LossMask = lossMask;
        PromptLength = promptLength;
        FilePath = filePath;
        Line = line;
    }

    /// <summary>
    /// Tokenizes <paramref name="record"/> for a model with context <paramref name="contextLength"/> (at
    /// most that many inputs, so at most <c>contextLength + 1</c> tokens) and vocabulary
    /// <paramref name="modelVocabSize"/>.
    /// </summary>
    /// <exception cref="DataFormatException">A token id is outside the model's vocabulary, or the example is too
    /// long under <see cref="OverlongPolicy.Error"/>; the message names the file, line and field.</exception>
    public static SftExample FromRecord(SftRecord record, ITokenizer tokenizer, int contextLength, OverlongPolicy overlong, int modelVocabSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(contextLength, 1);
        if ((uint)tokenizer.EndOfText >= (uint)modelVocabSize)
            throw new ArgumentException($"the {tokenizer.Name} tokenizer's end-of-text id {tokenizer.EndOfText} is outside the model vocabulary [0, {modelVocabSize})");

        var ids = new List<int>(record.Prompt.Length / 2 + record.Completion.Length / 2 + 2);
        tokenizer.Encode(record.Prompt, ids);
        int promptLength = ids.Count;
        CheckVocabulary(ids, 0, record, "prompt", modelVocabSize);
        tokenizer.Encode(record.Completion, ids);
        CheckVocabulary(ids, promptLength, record, record.CompletionField, modelVocabSize);
        ids.Add(tokenizer.EndOfText);

        int length = ids.Count;
        if (length > contextLength + 1)
        {
            if (overlong == OverlongPolicy.Error)
                throw new DataFormatException(record.FilePath, record.Line, null,
                    $"the example is {length} tokens, longer than the context of {contextLength} + 1 (raise --seq-len, or cut it with --overlong Truncate)");
            length = contextLength + 1;
        }

        var tokens = ids.GetRange(0, length).ToArray();
        var mask = new bool[length - 1];
        // Target i is Tokens[i+1]: it is trained on when it lies in the completion (index ≥ promptLength).
        for (int i = Math.Max(promptLength - 1, 0); i < mask.Length; i++) mask[i] = true;
        return new SftExample(tokens, mask, Math.Min(promptLength, length), record.FilePath, record.Line);
    }

    private static void CheckVocabulary(List<int> ids, int from, SftRecord record, string field, int vocabSize)
    {
        for (int i = from; i < ids.Count; i++)
            if ((uint)ids[i] >= (uint)vocabSize)
                throw new DataFormatException(record.FilePath, record.Line, field, $"has token id {ids[i]}, outside the model vocabulary [0, {vocabSize})");
    }
}
