namespace RlhfCore.Feedback.Annotation;

/// <summary>
/// K-wise judgments: the simulated annotator ranks K completions by Plackett–Luce sampling on the gold
/// reward. Identical completions are one candidate. At each stage the next-best is drawn from the
/// candidates left with P(i) ∝ exp(g_i/T + λ·len_i) (T = 0: only the candidates of highest gold compete,
/// on the length bias alone), so K = 2 is exactly the pair judgment's σ((g_A − g_B)/T + λ·(len_A − len_B)).
/// With probability f the whole order is reversed (K = 2: the pair's flip). Walking the order, a completion
/// whose gold is within the tie margin of its group's first one joins that group. Each item draws exactly
/// K + 1 numbers, so item k's ranking depends only on the seed, k and the item.
/// </summary>
public sealed partial class SimulatedAnnotator
{
    /// <summary>Ranks every item, in order.</summary>
    public List<RankingRecord> Rank(IReadOnlyList<RankingItem> items) => items.Select(Rank).ToList();

    /// <summary>Ranks one item's K completions.</summary>
    public RankingRecord Rank(RankingItem item)
    {
        int k = item.Completions.Count;
        if (k < 2) throw new ArgumentException($"a ranking needs K ≥ 2 completions, got {k}", nameof(item));
        var draws = new double[k + 1];
        for (int i = 0; i < draws.Length; i++) draws[i] = Rng.NextDouble();

        var distinct = item.Completions.Distinct(StringComparer.Ordinal).ToList();
        var gold = distinct.Select(c => _task.GoldReward(item.Prompt, c)).ToArray();
        var order = SampleOrder(gold, distinct.Select(c => c.Length).ToArray(), draws);
        if (draws[k] < _options.FlipProbability) order.Reverse();

        var ranked = new List<string>(k);
        var ranks = new List<int>(k);
        int group = -1;
        double groupGold = double.NaN;
        foreach (int d in order)
        {
            if (group < 0 || !(Math.Abs(gold[d] - groupGold) < _options.TieMargin))
            {
                group++;
                groupGold = gold[d];
            }
            foreach (var c in item.Completions)
                if (string.Equals(c, distinct[d], StringComparison.Ordinal)) { ranked.Add(c); ranks.Add(group); }
        }
        return new RankingRecord(item.Prompt, ranked, ranks);
    }

    /// <summary>A Plackett–Luce order (best first) of candidates with the given gold rewards and lengths, from one uniform draw per stage.</summary>
    private List<int> SampleOrder(double[] gold, int[] lengths, double[] draws)
    {
        var left = Enumerable.Range(0, gold.Length).ToList();
        var order = new List<int>(gold.Length);
        var weights = new double[gold.Length];
        for (int stage = 0; left.Count > 0; stage++)
        {
            var competing = _options.Temperature == 0 ? left.Where(i => gold[i] == left.Max(j => gold[j])).ToList() : left;
            double max = double.NegativeInfinity;
            foreach (int i in competing) max = Math.Max(max, Logit(gold[i], lengths[i]));
            double total = 0;
            foreach (int i in competing) total += weights[i] = Math.Exp(Logit(gold[i], lengths[i]) - max);
            double u = draws[stage] * total;
            int pick = competing[^1];
            foreach (int i in competing)
            {
                u -= weights[i];
                if (u < 0) { pick = i; break; }
            }
            order.Add(pick);
            left.Remove(pick);
        }
        return order;
    }

    /// <summary>The Plackett–Luce logit of a completion: g/T + λ·length (λ·length alone when T = 0).</summary>
    public double Logit(double gold, int length) =>
        (_options.Temperature == 0 ? 0 : gold / _options.Temperature) + _options.LengthBias * length;
}
