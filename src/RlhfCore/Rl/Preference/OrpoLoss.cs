namespace RlhfCore.Rl.Preference;

/// <summary>
/// ORPO (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model"), as TRL's ORPOTrainer:
/// no reference model; with length-normalized log-probs aᶜ = Sᶜ/Lᶜ, aʳ = Sʳ/Lʳ (S summed, L completion tokens),
/// log-odds lo = (aᶜ − aʳ) − (log(1 − e^aᶜ) − log(1 − e^aʳ)), and the SFT loss on the chosen completions as TRL's
/// cross-entropy (a token mean over all chosen tokens of the batch, −ΣSᶜ/ΣLᶜ):
/// loss = NLL − λ·mean over pairs of log σ(lo) (TRL's beta is λ). Gradients: ∂lo/∂aᶜ = 1/(1 − e^aᶜ),
/// ∂lo/∂aʳ = −1/(1 − e^aʳ), ∂ log σ(lo)/∂lo = σ(−lo), then ∂a/∂S = 1/L.
/// </summary>
public static class OrpoLoss
{
    /// <summary>The loss on one batch of pairs, with λ = <paramref name="lambda"/> ≥ 0.</summary>
    public static PairLossResult Batch(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths,
        ReadOnlySpan<int> rejectedLengths, double lambda)
    {
        var dc = new double[chosen.Length];
        var dr = new double[chosen.Length];
        var stats = BatchInto(chosen, rejected, chosenLengths, rejectedLengths, lambda, dc, dr);
        return new PairLossResult(stats.Loss, dc, dr, stats.ToDictionary());
    }

    /// <summary>
    /// <see cref="Batch"/> without allocating (the training step's path): ∂Loss/∂S go into <paramref name="dChosen"/> and
    /// <paramref name="dRejected"/> (one per pair), the loss and metrics are returned.
    /// </summary>
    public static PairLossStats BatchInto(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths,
        ReadOnlySpan<int> rejectedLengths, double lambda, Span<double> dChosen, Span<double> dRejected)
    {
        PairInputs.Check("ORPO", chosen, rejected, chosenLengths, rejectedLengths, dChosen, dRejected);
        if (!double.IsFinite(lambda) || lambda < 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"--beta (ORPO's λ): {lambda} must be finite and ≥ 0");
        int n = chosen.Length;
        double tokens = 0, sumChosen = 0;
        for (int i = 0; i < n; i++) { tokens += chosenLengths[i]; sumChosen += chosen[i]; }
        double nll = -sumChosen / tokens;
        double ratioSum = 0, logOddsSum = 0, rc = 0, rr = 0, acc = 0, lc = 0, lr = 0;
        for (int i = 0; i < n; i++)
        {
            double ac = chosen[i] / chosenLengths[i], ar = rejected[i] / rejectedLengths[i];
            if (!(ac < 0) || !(ar < 0))
                throw new ArgumentException($"ORPO: pair {i} has a mean log-prob of {Math.Max(ac, ar)}; it must be below 0 (a probability of 1 has infinite odds)");
            double lo = ac - ar - (PreferenceMath.Log1mExp(ac) - PreferenceMath.Log1mExp(ar));
            ratioSum += PreferenceMath.LogSigmoid(lo);
            logOddsSum += lo;
            double s = PreferenceMath.Sigmoid(-lo);
            dChosen[i] = -1 / tokens - lambda / n * s / -double.ExpM1(ac) / chosenLengths[i];
            dRejected[i] = lambda / n * s / -double.ExpM1(ar) / rejectedLengths[i];
            rc += lambda * ac; rr += lambda * ar;
            acc += lambda * ac > lambda * ar ? 1 : 0;
            lc += ac; lr += ar;
        }
        double ratio = ratioSum / n;
        return new PairLossStats(nll - lambda * ratio, rc / n, rr / n, acc / n, (rc - rr) / n, lc / n, lr / n,
            new OddsRatioStats(nll, ratio, logOddsSum / n));
    }
}
