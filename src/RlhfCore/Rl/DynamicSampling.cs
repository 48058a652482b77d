namespace RlhfCore.Rl;

/// <summary>What <see cref="DynamicSampling.Fill"/> kept.</summary>
/// <param name="Groups">The kept groups, in draw order: at most the number wanted, never empty.</param>
/// <param name="Draws">How many draws it took.</param>
/// <param name="Dropped">Groups dropped because all their rewards were equal.</param>
public sealed record DynamicSamplingResult<TGroup>(IReadOnlyList<TGroup> Groups, int Draws, int Dropped)
{
    /// <summary>Whether fewer groups than wanted were found within the draw limit.</summary>
    public bool Short(int wanted) => Groups.Count < wanted;
}

/// <summary>
/// DAPO's dynamic sampling (Yu et al. 2025, §3.2; verl's <c>filter_groups</c>): a prompt group whose k samples all
/// got the same reward has zero group-relative advantage everywhere and so no gradient, so it is dropped and further
/// groups are drawn until the batch is full. Unlike verl, which stops with an error when the batch is not full after
/// max_num_gen_batches draws, a batch that is short after the last draw is returned (the caller sees
/// <see cref="DynamicSamplingResult{TGroup}.Short"/>); only a batch with no group at all is an error, so the
/// result is never empty.
/// </summary>
public static class DynamicSampling
{
    /// <summary>True unless every reward equals the first (a single reward has no variance). Rewards must be finite.</summary>
    public static bool HasVariance(IReadOnlyList<double> rewards)
    {
        for (int i = 0; i < rewards.Count; i++)
            if (!double.IsFinite(rewards[i])) throw new ArgumentException($"dynamic sampling: reward {i} of a group is {rewards[i]}; rewards must be finite");
        for (int i = 1; i < rewards.Count; i++)
            if (rewards[i] != rewards[0]) return true;
        return false;
    }

    /// <summary>
    /// Calls <paramref name="draw"/>(0), (1), … — each returns a round of freshly sampled and scored prompt groups — and
    /// keeps the groups whose <paramref name="rewardsOf"/> are not all equal, until <paramref name="wanted"/> are kept
    /// (extra ones from the last round are not used) or <paramref name="maxDraws"/> rounds were drawn.
    /// <paramref name="remedy"/> replaces the error's generic advice (a caller names its own flags there).
    /// </summary>
    public static DynamicSamplingResult<TGroup> Fill<TGroup>(int wanted, int maxDraws, Func<int, IReadOnlyList<TGroup>> draw,
        Func<TGroup, IReadOnlyList<double>> rewardsOf, string remedy = "allow more draws or turn dynamic sampling off")
    {
        if (wanted <= 0) throw new ArgumentOutOfRangeException(nameof(wanted), wanted, "dynamic sampling: the batch must want at least one group");
        if (maxDraws <= 0) throw new ArgumentOutOfRangeException(nameof(maxDraws), maxDraws, "dynamic sampling: the draw limit must be at least 1");
        var kept = new List<TGroup>(wanted);
        int draws = 0, dropped = 0, seen = 0;
        while (kept.Count < wanted && draws < maxDraws)
        {
            var round = draw(draws++);
            foreach (var g in round)
            {
                if (kept.Count == wanted) break;
                seen++;
                if (HasVariance(rewardsOf(g))) kept.Add(g);
                else dropped++;
            }
        }
        if (kept.Count == 0)
            throw new InvalidOperationException(
                $"dynamic sampling: none of the {seen} prompt groups drawn in {draws} draws had rewards that differ (every group's samples scored alike, " +
                $"all solved or all failed): the prompts are too easy or too hard for the policy, or the reward is constant; {remedy}");
        return new DynamicSamplingResult<TGroup>(kept, draws, dropped);
    }
}
