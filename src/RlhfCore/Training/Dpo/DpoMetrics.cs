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

/// <summary>
/// Running sums behind <see cref="DpoMetrics"/>, added pair by pair (or batch by batch) in a fixed order. Every sum is a
/// field, so adding allocates nothing (a training step's micro-batches add to it); only <see cref="Mean"/> allocates.
/// </summary>
public sealed class DpoMetricsSum
{
    private double _loss, _chosen, _rejected, _correct, _logpChosen, _logpRejected;
    private int _pairs;
    // ORPO's own metrics: pair-weighted sums, ordinal order of their names.
    private static readonly string[] OddsRatioNames = ["log_odds_chosen", "log_odds_ratio", "nll_loss"];
    private readonly double[] _oddsRatio = new double[OddsRatioNames.Length];
    private bool _hasOddsRatio;
    // KTO's metrics: sums of value × weight and the weights, ordinal order of their names.
    private static readonly string[] KtoNames = ["count/chosen", "count/rejected", "kl", "logps/chosen", "logps/rejected", "rewards/chosen", "rewards/margins", "rewards/rejected"];
    private readonly double[] _ktoSum = new double[KtoNames.Length], _ktoWeight = new double[KtoNames.Length];
    private readonly bool[] _ktoSeen = new bool[KtoNames.Length];

    /// <summary>Starts over.</summary>
    public void Clear()
    {
        (_loss, _chosen, _rejected, _correct, _logpChosen, _logpRejected, _pairs) = (0, 0, 0, 0, 0, 0, 0);
        Array.Clear(_oddsRatio);
        _hasOddsRatio = false;
        Array.Clear(_ktoSum);
        Array.Clear(_ktoWeight);
        Array.Clear(_ktoSeen);
    }

    /// <summary>
    /// Adds a KTO batch of <paramref name="examples"/>: its metrics are TRL's KTO ones (the pair metrics have no meaning
    /// for unpaired data and become NaN); the chosen ones are weighted by the batch's desirable count, the rejected ones
    /// by its undesirable count, the rest by the examples. A class the batch lacks adds nothing to its metrics.
    /// </summary>
    public void Add(in KtoStats batch, int examples)
    {
        _loss += batch.Loss * examples;
        (_chosen, _rejected, _correct, _logpChosen, _logpRejected) = (double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        double chosen = batch.Chosen, rejected = batch.Rejected;
        AddKto(0, chosen, examples);
        AddKto(1, rejected, examples);
        AddKto(2, batch.Kl, examples);
        if (batch.Chosen > 0) { AddKto(3, batch.LogpsChosen, chosen); AddKto(5, batch.RewardsChosen, chosen); }
        if (batch.Rejected > 0) { AddKto(4, batch.LogpsRejected, rejected); AddKto(7, batch.RewardsRejected, rejected); }
        if (batch.Chosen > 0 && batch.Rejected > 0) AddKto(6, batch.RewardsChosen - batch.RewardsRejected, examples);
        _pairs += examples;
    }

    private void AddKto(int k, double value, double weight)
    {
        _ktoSum[k] += value * weight;
        _ktoWeight[k] += weight;
        _ktoSeen[k] = true;
    }

    /// <summary>Adds a batch loss's means over its <paramref name="pairs"/> pairs (ORPO, SimPO), weighted by the pairs.</summary>
    public void Add(in PairLossStats batch, int pairs)
    {
        _loss += batch.Loss * pairs;
        _chosen += batch.RewardsChosen * pairs;
        _rejected += batch.RewardsRejected * pairs;
        _correct += batch.RewardsAccuracy * pairs;
        _logpChosen += batch.LogpsChosen * pairs;
        _logpRejected += batch.LogpsRejected * pairs;
        if (batch.OddsRatio is { } o)
        {
            _oddsRatio[0] += o.LogOddsChosen * pairs;
            _oddsRatio[1] += o.LogOddsRatio * pairs;
            _oddsRatio[2] += o.NllLoss * pairs;
            _hasOddsRatio = true;
        }
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
        if (!_hasOddsRatio && Array.IndexOf(_ktoSeen, true) < 0) return null;
        var d = new Dictionary<string, double>();
        if (_hasOddsRatio)
            for (int k = 0; k < OddsRatioNames.Length; k++) d[OddsRatioNames[k]] = _oddsRatio[k] / n;
        // A metric whose examples never occurred (no undesirable ones) is left out, as TRL leaves it out.
        for (int k = 0; k < KtoNames.Length; k++)
            if (_ktoSeen[k]) d[KtoNames[k]] = _ktoSum[k] / _ktoWeight[k];
        return d;
    }
}
