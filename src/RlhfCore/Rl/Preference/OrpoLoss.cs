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
        PairInputs.Check("ORPO", chosen, rejected, chosenLengths, rejectedLengths);
        if (!double.IsFinite(lambda) || lambda < 0) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, $"--beta (ORPO's λ): {lambda} must be finite and ≥ 0");
        int n = chosen.Length;
        double tokens = 0, sumChosen = 0;
        for (int i = 0; i < n; i++) { tokens += chosenLengths[i]; sumChosen += chosen[i]; }
        double nll = -sumChosen / tokens;
        var dc = new double[n];
        var dr = new double[n];
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
            dc[i] = -1 / tokens - lambda / n * s / -double.ExpM1(ac) / chosenLengths[i];
            dr[i] = lambda / n * s / -double.ExpM1(ar) / rejectedLengths[i];
            rc += lambda * ac; rr += lambda * ar;
            acc += lambda * ac > lambda * ar ? 1 : 0;
            lc += ac; lr += ar;
        }
        double ratio = ratioSum / n;
        var metrics = new Dictionary<string, double>
        {
            ["rewards/chosen"] = rc / n, ["rewards/rejected"] = rr / n, ["rewards/accuracies"] = acc / n, ["rewards/margins"] = (rc - rr) / n,
            ["logps/chosen"] = lc / n, ["logps/rejected"] = lr / n, ["nll_loss"] = nll, ["log_odds_ratio"] = ratio, ["log_odds_chosen"] = logOddsSum / n,
        };
        return new PairLossResult(nll - lambda * ratio, dc, dr, metrics);
    }
}
