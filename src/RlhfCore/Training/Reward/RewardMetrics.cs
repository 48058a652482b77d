namespace RlhfCore.Training.Reward;

/// <summary>A summary of reward-model scores over some batches (one step, or a whole evaluation).</summary>
/// <param name="Loss">Mean loss per group (pair, ranking, or rated/labelled completion), centering term included.</param>
/// <param name="Accuracy">Fraction of ordered pairs whose better member scores strictly higher.</param>
/// <param name="Margin">Mean of (better score − worse score) over ordered pairs.</param>
/// <param name="RewardsChosen">Mean score of the better member of each ordered pair.</param>
/// <param name="RewardsRejected">Mean score of the worse member.</param>
/// <param name="RewardMean">Mean of every score.</param>
/// <param name="RewardStd">Standard deviation of every score.</param>
/// <param name="Pairs">Ordered pairs counted.</param>
public sealed record RewardSummary(double Loss, double Accuracy, double Margin, double RewardsChosen, double RewardsRejected,
    double RewardMean, double RewardStd, long Pairs)
{
    /// <summary>The metrics under TRL's names (<c>loss</c>, <c>accuracy</c>, <c>margin</c>, <c>rewards/chosen</c>, …), each prefixed by <paramref name="prefix"/>.</summary>
    public Dictionary<string, double> ToMetrics(string prefix = "") => new()
    {
        [prefix + "loss"] = Loss,
        [prefix + "accuracy"] = Accuracy,
        [prefix + "margin"] = Margin,
        [prefix + "rewards/chosen"] = RewardsChosen,
        [prefix + "rewards/rejected"] = RewardsRejected,
        [prefix + "rewards/mean"] = RewardMean,
        [prefix + "rewards/std"] = RewardStd,
    };
}

/// <summary>
/// Accumulates <see cref="RewardSummary"/> over batches. The "ordered pairs" behind accuracy and margin
/// are, per loss: within each pair or ranking, every (better, worse) pair of its members; for ratings,
/// every two rows of a batch with different ratings; for approvals, every (approved, disapproved) two
/// rows of a batch. For pairs this is TRL's accuracy (chosen scored higher) and margin.
/// </summary>
public sealed class RewardMetrics
{
    private double _loss, _scoreSum, _scoreSq, _marginSum, _chosenSum, _rejectedSum;
    private long _groups, _scores, _pairs, _correct;

    /// <summary>Forgets everything added (a trainer reuses one instance per step).</summary>
    public void Clear() => (_loss, _scoreSum, _scoreSq, _marginSum, _chosenSum, _rejectedSum, _groups, _scores, _pairs, _correct) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Adds one batch's mean loss (weighted by its groups) and its scores.</summary>
    public void Add(RewardLoss kind, double loss, ReadOnlySpan<double> scores, RewardBatch batch)
    {
        _loss += loss * batch.Groups;
        _groups += batch.Groups;
        foreach (double s in scores[..batch.Rows])
        {
            _scoreSum += s;
            _scoreSq += s * s;
        }
        _scores += batch.Rows;
        if (kind is RewardLoss.BradleyTerry or RewardLoss.PlackettLuce)
        {
            for (int g = 0; g < batch.Groups; g++)
                for (int i = 0; i < batch.GroupSize[g]; i++)
                    for (int j = i + 1; j < batch.GroupSize[g]; j++)
                        Pair(scores[batch.GroupStart[g] + i], scores[batch.GroupStart[g] + j]);
            return;
        }
        // One row per group: order rows by their targets (ratings, or labels 1 over 0).
        for (int a = 0; a < batch.Groups; a++)
            for (int b = 0; b < batch.Groups; b++)
                if (batch.Targets[a] > batch.Targets[b])
                    Pair(scores[batch.GroupStart[a]], scores[batch.GroupStart[b]]);
    }

    private void Pair(double better, double worse)
    {
        _pairs++;
        if (better > worse) _correct++;
        _marginSum += better - worse;
        _chosenSum += better;
        _rejectedSum += worse;
    }

    /// <summary>The summary so far (NaN where nothing was counted).</summary>
    public RewardSummary Summary()
    {
        double mean = _scoreSum / _scores;
        double variance = Math.Max(0, _scoreSq / _scores - mean * mean);
        return new RewardSummary(_loss / _groups, (double)_correct / _pairs, _marginSum / _pairs, _chosenSum / _pairs,
            _rejectedSum / _pairs, mean, Math.Sqrt(variance), _pairs);
    }
}
