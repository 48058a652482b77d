namespace RlhfCore.Feedback;

/// <summary>
/// One feedback record tokenized for a reward model: one token sequence (prompt + completion, and EOS
/// when asked) per completion, best first for pairs and rankings. The model scores each sequence at its
/// last token.
/// </summary>
/// <param name="Kind">Pairs, Rankings, Ratings or Approvals (HH transcripts are pairs by now).</param>
/// <param name="Sequences">Token sequences; two for a pair, K for a ranking, one for a rating or approval.</param>
/// <param name="Target">The rating, or 1/0 for an approval; 0 for pairs and rankings.</param>
/// <param name="Margin">A pair's margin; 0 otherwise.</param>
/// <param name="Source">Where the record came from, for messages.</param>
public sealed record RewardExample(FeedbackKind Kind, int[][] Sequences, double Target, double Margin, string Source)
{
    /// <summary>An example from token sequences made in memory (e.g. a pipeline's generated completions).</summary>
    public static RewardExample Pair(int[] chosen, int[] rejected, double margin = 0, string source = "in-memory pair") =>
        new(FeedbackKind.Pairs, [chosen, rejected], 0, margin, source);
}
