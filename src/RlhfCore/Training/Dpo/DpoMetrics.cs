using RlhfCore.Rl.Preference;
namespace RlhfCore.Training.Dpo;

/// <summary>Means over the pairs of a step or an evaluation, under TRL's metric names.</summary>
/// <param name="Loss"><c>loss</c>.</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: β·(πc − refc).</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>: β·(πr − refr).</param>
/// <param name="RewardsAccuracy"><c>rewards/accuracies</c>: fraction of pairs whose chosen reward is strictly larger.</param>
/// <param name="RewardsMargin"><c>rewards/margins</c>: chosen minus rejected reward.</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: the policy's completion log-prob (per-token mean for IPO).</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>.</param>
/// <param name="Pairs">Pairs averaged.</param>
/// <param name="Extra">A loss's own metrics under TRL's names (ORPO's <c>nll_loss</c>, <c>log_odds_ratio</c>, <c>log_odds_chosen</c>), pair-weighted means.</param>
public sealed record DpoMetrics(double Loss, double RewardsChosen, double RewardsRejected, double RewardsAccuracy,
    double RewardsMargin, double LogpsChosen, double LogpsRejected, int Pairs, IReadOnlyDictionary<string, double>? Extra = null)
{
    /// <summary>The metrics keyed by TRL's names, each prefixed (TRL uses <c>eval_</c> for held-out data).</summary>
    public Dictionary<string, double> ToDictionary(string prefix = "")
    {
        var d = Common(prefix);
        if (Extra != null) foreach (var (k, v) in Extra) d[prefix + k] = v;
        return d;
    }

    private Dictionary<string, double> Common(string prefix) => new()
    {
        [prefix + "loss"] = Loss,
        [prefix + "rewards/chosen"] = RewardsChosen,
        [prefix + "rewards/rejected"] = RewardsRejected,
        [prefix + "rewards/accuracies"] = RewardsAccuracy,
        [prefix + "rewards/margins"] = RewardsMargin,
        [prefix + "logps/chosen"] = LogpsChosen,
        [prefix + "logps/rejected"] = LogpsRejected,
    };
}

/// <summary>Running sums behind <see cref="DpoMetrics"/>, added pair by pair in a fixed order.</summary>
public sealed class DpoMetricsSum
{
    private double _loss, _chosen, _rejected, _correct, _logpChosen, _logpRejected;
    private int _pairs;
    private readonly SortedDictionary<string, double> _extra = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, (double Sum, double Weight)> _weighted = new(StringComparer.Ordinal);
    private static readonly string[] Common = ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected"];

    /// <summary>Starts over.</summary>
    public void Clear()
    {
        (_loss, _chosen, _rejected, _correct, _logpChosen, _logpRejected, _pairs) = (0, 0, 0, 0, 0, 0, 0);
        _extra.Clear();
        _weighted.Clear();
    }

    /// <summary>
    /// Adds a KTO batch of <paramref name="examples"/>: its metrics are TRL's KTO ones (the pair metrics have no meaning
    /// for unpaired data and become NaN); the chosen ones are weighted by the batch's desirable count, the rejected ones
    /// by its undesirable count, the rest by the examples.
    /// </summary>
    public void Add(KtoResult batch, int examples)
    {
        _loss += batch.Loss * examples;
        (_chosen, _rejected, _correct, _logpChosen, _logpRejected) = (double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        var m = batch.Metrics;
        foreach (var (k, v) in m)
        {
            double w = k.StartsWith("count/", StringComparison.Ordinal) ? examples
                : k.EndsWith("/chosen", StringComparison.Ordinal) ? m["count/chosen"]
                : k.EndsWith("/rejected", StringComparison.Ordinal) ? m["count/rejected"] : examples;
            var (sum, weight) = _weighted.GetValueOrDefault(k);
            _weighted[k] = (sum + v * w, weight + w);
        }
        _pairs += examples;
    }

    /// <summary>Adds a batch loss's means over its <paramref name="pairs"/> pairs (ORPO, SimPO), weighted by the pairs.</summary>
    public void Add(PairLossResult batch, int pairs)
    {
        var m = batch.Metrics;
        _loss += batch.Loss * pairs;
        _chosen += m["rewards/chosen"] * pairs;
        _rejected += m["rewards/rejected"] * pairs;
        _correct += m["rewards/accuracies"] * pairs;
        _logpChosen += m["logps/chosen"] * pairs;
        _logpRejected += m["logps/rejected"] * pairs;
        foreach (var (k, v) in m)
            if (Array.IndexOf(Common, k) < 0) _extra[k] = _extra.GetValueOrDefault(k) + v * pairs;
        _pairs += pairs;
    }

    /// <summary>Adds one pair.</summary>
    public void Add(DpoPairLoss pair, double policyChosen, double policyRejected)
    {
        _loss += pair.Loss;
        _chosen += pair.ChosenReward;
        _rejected += pair.RejectedReward;
        _correct += pair.ChosenReward > pair.RejectedReward ? 1 : 0;
        _logpChosen += policyChosen;
        _logpRejected += policyRejected;
        _pairs++;
    }

    /// <summary>The means so far (NaN when empty).</summary>
    public DpoMetrics Mean()
    {
        double n = _pairs;
        return new DpoMetrics(_loss / n, _chosen / n, _rejected / n, _correct / n, (_chosen - _rejected) / n,
            _logpChosen / n, _logpRejected / n, _pairs, Extra(n));
    }

    private Dictionary<string, double>? Extra(double n)
    {
        if (_extra.Count == 0 && _weighted.Count == 0) return null;
        var d = _extra.ToDictionary(e => e.Key, e => e.Value / n);
        // A metric whose examples never occurred (no undesirable ones) stays NaN, as TRL leaves it out.
        foreach (var (k, (sum, weight)) in _weighted) d[k] = weight > 0 ? sum / weight : double.NaN;
        return d;
    }
}
