using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// A rejection-sampling fine-tuning set: each prompt's best completion as a TRL SFT line
/// <c>{"prompt","completion"}</c> (the completion without its end-of-text token, which SFT appends), so
/// <c>rlhf sft --data</c> reads it.
/// </summary>
public static class RejectionSamplingSet
{
    /// <summary>
    /// The best completion of every prompt whose best score is at least <paramref name="minScore"/> (all when null), leaving
    /// out a best completion that is not text: bytes that are not valid UTF-8 decode to U+FFFD, which encodes back as three
    /// other bytes, so learning the decoded text would teach the policy bytes it never sampled.
    /// </summary>
    public static List<PromptCompletion> Winners(BestOfNResult result, ITokenizer tokenizer, double? minScore = null) =>
        [.. result.Prompts.Where(p => (minScore is not double min || p.BestScore >= min) && IsText(p.Best, tokenizer))
            .Select(p => new PromptCompletion(p.Prompt, p.Best.Text))];

    /// <summary>True when the completion's text encodes back to exactly the tokens generated (end-of-text aside).</summary>
    public static bool IsText(Completion c, ITokenizer tokenizer) =>
        tokenizer.Encode(c.Text).AsSpan().SequenceEqual(c.StoppedAtEos ? c.Tokens.AsSpan(0, c.Tokens.Length - 1) : c.Tokens);

    /// <summary>Writes <paramref name="winners"/> to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<PromptCompletion> winners) =>
        AtomicFile.Write(path, stream =>
        {
            foreach (var w in winners)
                stream.Write(JsonLine.Build(j =>
                {
                    j.WriteString("prompt", w.Prompt);
                    j.WriteString("completion", w.Completion);
                }));
        });
}
