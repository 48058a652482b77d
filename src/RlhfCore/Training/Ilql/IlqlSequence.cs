using RlhfCore.Data;
using RlhfCore.Rl.Ilql;

namespace RlhfCore.Training.Ilql;

/// <summary>
/// One tokenized ILQL example: <c>[prompt | completion | end-of-text]</c> (prompt and completion tokenized separately, so the
/// boundary is exact), its reward and where it came from. The actions are the completion's tokens, its end-of-text included.
/// </summary>
/// <param name="Tokens">The whole sequence.</param>
/// <param name="PromptLength">Prompt tokens at its start (at least 1: an empty prompt is the end-of-text token, as in generation).</param>
/// <param name="Reward">The reward, given at the last action.</param>
/// <param name="Where">File and line, for messages.</param>
public sealed record IlqlSequence(int[] Tokens, int PromptLength, float Reward, string Where)
{
    /// <summary>Model inputs of the row: the whole sequence but its last token.</summary>
    public int Inputs => Tokens.Length - 1;

    /// <summary>Tokenizes <paramref name="e"/> for rows of <paramref name="seqLen"/> inputs and a vocabulary of <paramref name="vocabSize"/>.</summary>
    /// <exception cref="ArgumentException">The reward is not finite, a token is outside the vocabulary, or the example is too long; the message names its file and line.</exception>
    public static IlqlSequence From(IlqlExample e, ITokenizer tokenizer, int seqLen, int vocabSize)
    {
        if (!double.IsFinite(e.Reward)) throw new ArgumentException($"{e.Where}: reward {e.Reward} is not a finite number");
        if ((uint)tokenizer.EndOfText >= (uint)vocabSize)
            throw new ArgumentException($"the {tokenizer.Name} tokenizer's end-of-text id {tokenizer.EndOfText} is outside the model vocabulary [0, {vocabSize})");
        var ids = new List<int>(e.Prompt.Length + e.Completion.Length + 2);
        if (e.Prompt.Length == 0) ids.Add(tokenizer.EndOfText);
        else tokenizer.Encode(e.Prompt, ids);
        int prompt = ids.Count;
        tokenizer.Encode(e.Completion, ids);
        ids.Add(tokenizer.EndOfText);
        foreach (int id in ids)
            if ((uint)id >= (uint)vocabSize) throw new ArgumentException($"{e.Where}: token id {id} is outside the model vocabulary [0, {vocabSize})");
        if (ids.Count - 1 > seqLen)
            throw new ArgumentException($"{e.Where}: prompt + completion + end-of-text make {ids.Count} tokens, longer than the row length of {seqLen} inputs allows ({seqLen + 1}); raise --seq-len (up to the model's context) or shorten the example");
        return new IlqlSequence([.. ids], prompt, (float)e.Reward, e.Where);
    }
}
