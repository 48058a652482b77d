using RlhfCore.Data;
namespace RlhfCore.Feedback;

/// <summary>
/// Turns feedback records into <see cref="RewardExample"/>s: each record is checked
/// (<see cref="FeedbackValidation"/>), its prompt and completions are tokenized separately (so the
/// boundary is exact), EOS is appended to each completion when asked — a generated completion that stopped
/// at EOS ends the same way — and the <see cref="PromptOverflow"/> policy is applied.
/// </summary>
public static class RewardExamples
{
    /// <summary>Tokenizes <paramref name="records"/> for sequences of at most <paramref name="seqLen"/> tokens.</summary>
    /// <param name="skipped">Receives one message per record left out under <see cref="PromptOverflow.Skip"/>.</param>
    /// <param name="allowEmptyCompletions">Accept empty completions: with <paramref name="appendEos"/> each is the prompt followed by EOS.</param>
    /// <exception cref="DataFormatException">A record is invalid, has a token outside the vocabulary, or does not fit (under Error, or a completion alone too long).</exception>
    public static List<RewardExample> Tokenize(IReadOnlyList<FeedbackRecord> records, ITokenizer tokenizer, int seqLen,
        PromptOverflow overflow, bool appendEos, int vocabSize, List<string>? skipped = null, bool allowEmptyCompletions = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seqLen, 1);
        var result = new List<RewardExample>(records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            var r = records[i];
            string file = r.FilePath ?? "in-memory feedback";
            int line = r.FilePath != null ? r.Line : i + 1;
            if (FeedbackValidation.Check(r, allowEmptyCompletions) is var (field, problem)) throw new DataFormatException(file, line, field, problem);

            int[] prompt = tokenizer.Encode(r.Prompt);
            var completions = r.Completions.Select(c => Completion(c, tokenizer, appendEos)).ToArray();
            foreach (var ids in completions.Prepend(prompt))
                foreach (int id in ids)
                    if ((uint)id >= (uint)vocabSize)
                        throw new DataFormatException(file, line, null, $"has token id {id}, outside the model vocabulary [0, {vocabSize})");

            int longest = completions.Max(c => c.Length);
            int drop = prompt.Length + longest - seqLen;
            if (drop > 0)
            {
                string size = $"prompt ({prompt.Length} tokens) + longest completion ({longest} tokens) is {prompt.Length + longest} tokens, more than the sequence length {seqLen}";
                if (overflow == PromptOverflow.Skip)
                {
                    skipped?.Add(new DataFormatException(file, line, null, size).Message);
                    continue;
                }
                if (overflow == PromptOverflow.Error)
                    throw new DataFormatException(file, line, "prompt", $"is too long: {size} (truncate the prompt from the left or skip such records with the overflow policy)");
                if (longest > seqLen)
                    throw new DataFormatException(file, line, "completion", $"is too long: {longest} tokens alone exceed the sequence length {seqLen}, so truncating the prompt cannot help");
                prompt = prompt[drop..];
            }
            var sequences = completions.Select(c => (int[])[.. prompt, .. c]).ToArray();
            var kind = FeedbackValidation.KindOf(r);
            double target = r switch { RatedCompletion c => c.Rating, LabeledCompletion l => l.Approved ? 1 : 0, _ => 0 };
            double margin = r is PreferencePair p ? p.Margin : 0;
            result.Add(new RewardExample(kind, sequences, target, margin, r.FilePath != null ? r.Where : $"in-memory record {line}"));
        }
        return result;
    }

    private static int[] Completion(string text, ITokenizer tokenizer, bool appendEos)
    {
        var ids = new List<int>(text.Length / 2 + 1);
        tokenizer.Encode(text, ids);
        if (appendEos) ids.Add(tokenizer.EndOfText);
        return [.. ids];
    }
}
