namespace RlhfCore.Feedback.Annotation;

/// <summary>One thing to rank: a prompt and K ≥ 2 completions of it, in sampling order.</summary>
/// <param name="Prompt">The prompt every completion continues.</param>
/// <param name="Completions">The K completions (may repeat: a policy often samples the same answer twice).</param>
public sealed record RankingItem(string Prompt, IReadOnlyList<string> Completions);

/// <summary>
/// A judged ranking of all K completions of a <see cref="RankingItem"/>, best first, with ties:
/// <see cref="Ranks"/>[i] is the tie group of <see cref="Ranked"/>[i] (0 = best, non-decreasing). Identical
/// completions always share a group.
/// </summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Ranked">All K completions, best first.</param>
/// <param name="Ranks">Each one's tie group.</param>
public sealed record RankingRecord(string Prompt, IReadOnlyList<string> Ranked, IReadOnlyList<int> Ranks)
{
    /// <summary>Tie groups.</summary>
    public int Groups => Ranks.Count == 0 ? 0 : Ranks[^1] + 1;

    /// <summary>The first completion of each tie group, best first: a strict ranking for Plackett–Luce (null when everything ties).</summary>
    public RankedCompletions? ToStrictRanking()
    {
        var firsts = new List<string>();
        for (int i = 0; i < Ranked.Count; i++) if (i == 0 || Ranks[i] != Ranks[i - 1]) firsts.Add(Ranked[i]);
        return firsts.Count >= 2 ? new RankedCompletions(Prompt, firsts) : null;
    }

    /// <summary>
    /// Every (better, worse) pair of completions in different tie groups, each distinct pair of texts once
    /// (InstructGPT's K(K−1)/2 comparisons per prompt, ties left out).
    /// </summary>
    public List<PreferencePair> ToPairs()
    {
        var seen = new HashSet<(string, string)>();
        var pairs = new List<PreferencePair>();
        for (int i = 0; i < Ranked.Count; i++)
            for (int j = i + 1; j < Ranked.Count; j++)
                if (Ranks[i] < Ranks[j] && seen.Add((Ranked[i], Ranked[j])))
                    pairs.Add(new PreferencePair(Prompt, Ranked[i], Ranked[j]));
        return pairs;
    }
}
