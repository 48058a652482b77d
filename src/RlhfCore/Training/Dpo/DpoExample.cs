using RlhfCore.Data;
using RlhfCore.Feedback;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// A tokenized preference pair: the prompt and each completion tokenized separately (so the boundary is exact),
/// each completion ending with the end-of-text token, as SFT trains it to. A row of the batch is
/// <c>[prompt | completion]</c> minus its last token (the inputs), predicting the next token at each position.
/// </summary>
public sealed class DpoExample
{
    /// <summary>Prompt tokens (never empty: an empty prompt becomes the end-of-text token, as in generation).</summary>
    public int[] Prompt { get; }
    /// <summary>Preferred completion tokens, end-of-text last.</summary>
    public int[] Chosen { get; }
    /// <summary>Dispreferred completion tokens, end-of-text last.</summary>
    public int[] Rejected { get; }
    /// <summary>Source file, for error messages.</summary>
    public string FilePath { get; }
    /// <summary>Source line (1-based), for error messages.</summary>
    public int Line { get; }
    /// <summary>
    /// KTO's label of an unpaired example (null for a preference pair): <see cref="Chosen"/> holds its completion, and
    /// <see cref="Rejected"/> repeats it; a batch pairs the prompt with another example's completion (<see cref="DpoBatch.FillWithKlPairs"/>).
    /// </summary>
    public bool? Desirable { get; init; }

    /// <summary>A pair from token ids (completions must already end with end-of-text if they should).</summary>
    public DpoExample(int[] prompt, int[] chosen, int[] rejected, string filePath = "<memory>", int line = 1)
    {
        if (prompt.Length == 0) throw new DataFormatException(filePath, line, "prompt", "has no tokens");
        if (chosen.Length == 0) throw new DataFormatException(filePath, line, "chosen", "has no tokens");
        if (rejected.Length == 0) throw new DataFormatException(filePath, line, "rejected", "has no tokens");
        Prompt = prompt;
        Chosen = chosen;
        Rejected = rejected;
        FilePath = filePath;
        Line = line;
    }

    /// <summary>Model inputs a row needs for <paramref name="completion"/>: the whole sequence but its last token.</summary>
    public int InputLength(int[] completion) => Prompt.Length + completion.Length - 1;

    /// <summary>
    /// Tokenizes <paramref name="pair"/> for rows of <paramref name="seqLen"/> inputs and a model vocabulary of
    /// <paramref name="vocabSize"/>.
    /// </summary>
    /// <exception cref="DataFormatException">The pair is invalid, a token is outside the vocabulary, or a
    /// completion does not fit the row length; the message names the file, line and field.</exception>
    public static DpoExample FromPair(PreferencePair pair, ITokenizer tokenizer, int seqLen, int vocabSize)
    {
        Validate(pair);
        if ((uint)tokenizer.EndOfText >= (uint)vocabSize)
            throw new ArgumentException($"the {tokenizer.Name} tokenizer's end-of-text id {tokenizer.EndOfText} is outside the model vocabulary [0, {vocabSize})");
        int[] prompt = pair.Prompt.Length == 0 ? [tokenizer.EndOfText] : Encode(pair, "prompt", pair.Prompt, tokenizer, vocabSize, eos: false);
        int[] chosen = Encode(pair, "chosen", pair.Chosen, tokenizer, vocabSize, eos: true);
        int[] rejected = Encode(pair, "rejected", pair.Rejected, tokenizer, vocabSize, eos: true);
        var example = new DpoExample(prompt, chosen, rejected, Source(pair), pair.Line);
        foreach (var (name, completion) in new[] { ("chosen", chosen), ("rejected", rejected) })
        {
            int inputs = example.InputLength(completion);
            if (inputs > seqLen)
                throw Error(pair, name,
                    $"makes prompt + completion + end-of-text {inputs + 1} tokens, longer than the row length of {seqLen} inputs allows ({seqLen + 1}); raise --seq-len (up to the model's context) or shorten the example");
        }
        return example;
    }

    /// <summary>
    /// Tokenizes an approval (KTO's unpaired example) for rows of <paramref name="seqLen"/> inputs; the message of a bad one
    /// names its file, line and field.
    /// </summary>
    public static DpoExample FromLabeled(LabeledCompletion c, ITokenizer tokenizer, int seqLen, int vocabSize)
    {
        string source = c.FilePath ?? "in-memory approvals";
        if (c.Completion.Length == 0) throw new DataFormatException(source, c.Line, "completion", "is empty; KTO scores a non-empty completion");
        if ((uint)tokenizer.EndOfText >= (uint)vocabSize)
            throw new ArgumentException($"the {tokenizer.Name} tokenizer's end-of-text id {tokenizer.EndOfText} is outside the model vocabulary [0, {vocabSize})");
        int[] Ids(string field, string text, bool eos)
        {
            var ids = new List<int>(text.Length + 1);
            tokenizer.Encode(text, ids);
            if (eos) ids.Add(tokenizer.EndOfText);
            foreach (int id in ids)
                if ((uint)id >= (uint)vocabSize) throw new DataFormatException(source, c.Line, field, $"has token id {id}, outside the model vocabulary [0, {vocabSize})");
            return ids.ToArray();
        }
        int[] prompt = c.Prompt.Length == 0 ? [tokenizer.EndOfText] : Ids("prompt", c.Prompt, eos: false);
        int[] completion = Ids("completion", c.Completion, eos: true);
        var e = new DpoExample(prompt, completion, completion, source, c.Line) { Desirable = c.Approved };
        if (e.InputLength(completion) > seqLen)
            throw new DataFormatException(source, c.Line, "completion",
                $"makes prompt + completion + end-of-text {e.InputLength(completion) + 1} tokens, longer than the row length of {seqLen} inputs allows ({seqLen + 1}); raise --seq-len or shorten the example");
        return e;
    }

    /// <summary>Returns <paramref name="pair"/>, or throws naming the line and field when it cannot teach DPO a preference.</summary>
    /// <exception cref="DataFormatException">A completion is empty, both completions are the same, or the margin is not finite.</exception>
    public static PreferencePair Validate(PreferencePair pair)
    {
        // Whitespace-only completions are real text to DPO; only an empty one (no tokens to score) is refused.
        if (FeedbackValidation.Check(pair, allowEmptyCompletions: true) is var (field, problem)) throw Error(pair, field, problem);
        if (pair.Chosen.Length == 0) throw Error(pair, "chosen", "is empty; a preference pair needs two non-empty completions");
        if (pair.Rejected.Length == 0) throw Error(pair, "rejected", "is empty; a preference pair needs two non-empty completions");
        return pair;
    }

    /// <summary>The pair's file, or a name for pairs made in memory (the pipeline's, the built-in ones).</summary>
    private static string Source(PreferencePair pair) => pair.FilePath ?? "in-memory pairs";

    private static DataFormatException Error(PreferencePair pair, string field, string problem) => new(Source(pair), pair.Line, field, problem);

    private static int[] Encode(PreferencePair pair, string field, string text, ITokenizer tokenizer, int vocabSize, bool eos)
    {
        var ids = new List<int>(text.Length + 1);
        tokenizer.Encode(text, ids);
        if (eos) ids.Add(tokenizer.EndOfText);
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabSize)
                throw Error(pair, field, $"has token id {id}, outside the model vocabulary [0, {vocabSize})");
        return ids.ToArray();
    }
}
