namespace RlhfCore.Rl.Preference;

/// <summary>One batch of a reference-free pair loss (ORPO, SimPO): the loss, its gradients and TRL's metrics.</summary>
/// <param name="Loss">The batch loss.</param>
/// <param name="DChosen">∂Loss/∂(summed chosen log-prob) per pair.</param>
/// <param name="DRejected">∂Loss/∂(summed rejected log-prob) per pair.</param>
/// <param name="Metrics">The metrics TRL logs for the loss, under TRL's names.</param>
public sealed record PairLossResult(double Loss, double[] DChosen, double[] DRejected, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Input checks shared by the pair losses.</summary>
internal static class PairInputs
{
    /// <summary>One summed log-prob and one positive length per side of every pair, at least one pair.</summary>
    public static void Check(string loss, ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths, ReadOnlySpan<int> rejectedLengths)
    {
        int n = chosen.Length;
        if (n == 0 || rejected.Length != n || chosenLengths.Length != n || rejectedLengths.Length != n)
            throw new ArgumentException($"{loss}: {chosen.Length} chosen and {rejected.Length} rejected log-probs, {chosenLengths.Length} and {rejectedLengths.Length} lengths: one each per pair, at least one");
        for (int i = 0; i < n; i++)
            if (chosenLengths[i] <= 0 || rejectedLengths[i] <= 0)
                throw new ArgumentException($"{loss}: pair {i} has a completion of {Math.Min(chosenLengths[i], rejectedLengths[i])} tokens; length-normalized log-probs need at least one");
    }
}
