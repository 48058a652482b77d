namespace RlhfCore.Rl.Preference;

/// <summary>One batch of a reference-free pair loss (ORPO, SimPO): the loss, its gradients and TRL's metrics.</summary>
/// <param name="Loss">The batch loss.</param>
/// <param name="DChosen">∂Loss/∂(summed chosen log-prob) per pair.</param>
/// <param name="DRejected">∂Loss/∂(summed rejected log-prob) per pair.</param>
/// <param name="Metrics">The metrics TRL logs for the loss, under TRL's names.</param>
public sealed record PairLossResult(double Loss, double[] DChosen, double[] DRejected, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// One batch of a reference-free pair loss, its loss and TRL's metrics, as <see cref="OrpoLoss.BatchInto"/> and
/// <see cref="SimpoLoss.BatchInto"/> return them without allocating (the gradients go into the caller's spans).
/// </summary>
/// <param name="Loss">The batch loss.</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>.</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c>.</param>
/// <param name="RewardsAccuracy"><c>rewards/accuracies</c>.</param>
/// <param name="RewardsMargin"><c>rewards/margins</c>.</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>.</param>
/// <param name="LogpsRejected"><c>logps/rejected</c>.</param>
/// <param name="OddsRatio">ORPO's own metrics (<c>nll_loss</c>, <c>log_odds_ratio</c>, <c>log_odds_chosen</c>); null for SimPO.</param>
public readonly record struct PairLossStats(double Loss, double RewardsChosen, double RewardsRejected, double RewardsAccuracy, double RewardsMargin,
    double LogpsChosen, double LogpsRejected, OddsRatioStats? OddsRatio)
{
    /// <summary>The metrics under TRL's names.</summary>
    public Dictionary<string, double> ToDictionary()
    {
        var metrics = new Dictionary<string, double>
        {
            ["rewards/chosen"] = RewardsChosen, ["rewards/rejected"] = RewardsRejected, ["rewards/accuracies"] = RewardsAccuracy, ["rewards/margins"] = RewardsMargin,
            ["logps/chosen"] = LogpsChosen, ["logps/rejected"] = LogpsRejected,
        };
        if (OddsRatio is { } o) { metrics["nll_loss"] = o.NllLoss; metrics["log_odds_ratio"] = o.LogOddsRatio; metrics["log_odds_chosen"] = o.LogOddsChosen; }
        return metrics;
    }
}

/// <summary>ORPO's metrics under TRL's names.</summary>
/// <param name="NllLoss"><c>nll_loss</c>: the SFT term.</param>
/// <param name="LogOddsRatio"><c>log_odds_ratio</c>: the mean log σ of the log-odds.</param>
/// <param name="LogOddsChosen"><c>log_odds_chosen</c>: the mean log-odds.</param>
public readonly record struct OddsRatioStats(double NllLoss, double LogOddsRatio, double LogOddsChosen);

/// <summary>Input checks shared by the pair losses.</summary>
internal static class PairInputs
{
    /// <summary>One summed log-prob and one positive length per side of every pair, at least one pair, and room for a gradient per side.</summary>
    public static void Check(string loss, ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths, ReadOnlySpan<int> rejectedLengths,
        ReadOnlySpan<double> dChosen, ReadOnlySpan<double> dRejected)
    {
        int n = chosen.Length;
        if (n == 0 || rejected.Length != n || chosenLengths.Length != n || rejectedLengths.Length != n)
            throw new ArgumentException($"{loss}: {chosen.Length} chosen and {rejected.Length} rejected log-probs, {chosenLengths.Length} and {rejectedLengths.Length} lengths: one each per pair, at least one");
        for (int i = 0; i < n; i++)
            if (chosenLengths[i] <= 0 || rejectedLengths[i] <= 0)
                throw new ArgumentException($"{loss}: pair {i} has a completion of {Math.Min(chosenLengths[i], rejectedLengths[i])} tokens; length-normalized log-probs need at least one");
        if (dChosen.Length < n || dRejected.Length < n)
            throw new ArgumentException($"{loss}: room for {dChosen.Length} chosen and {dRejected.Length} rejected gradients, {n} pairs");
    }
}
