namespace RlhfCore.Rl.Preference;

/// <summary>
/// SimPO (Meng et al. 2024, "SimPO: Simple Preference Optimization with a Reference-Free Reward"), as TRL's CPOTrainer
/// with loss_type "simpo" and cpo_alpha 0: no reference model; the implicit reward is the length-normalized log-likelihood
/// β·S/L, and with h = aᶜ − aʳ − γ/β (a = S/L) the loss per pair is −(1−ε)·log σ(βh) − ε·log σ(−βh) (ε the label
/// smoothing, 0 in the paper), averaged over pairs. ∂loss/∂h = −β(1−ε)·σ(−βh) + βε·σ(βh); ∂h/∂Sᶜ = 1/Lᶜ, ∂h/∂Sʳ = −1/Lʳ.
/// </summary>
public static class SimpoLoss
{
    /// <summary>The loss on one batch of pairs with β &gt; 0, target margin γ ≥ 0 and label smoothing ε in [0, 0.5].</summary>
    public static PairLossResult Batch(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths,
        ReadOnlySpan<int> rejectedLengths, double beta, double gamma, double labelSmoothing = 0)
    {
        var dc = new double[chosen.Length];
        var dr = new double[chosen.Length];
        var stats = BatchInto(chosen, rejected, chosenLengths, rejectedLengths, beta, gamma, labelSmoothing, dc, dr);
        return new PairLossResult(stats.Loss, dc, dr, stats.ToDictionary());
    }

    /// <summary>
    /// <see cref="Batch"/> without allocating (the training step's path): ∂Loss/∂S go into <paramref name="dChosen"/> and
    /// <paramref name="dRejected"/> (one per pair), the loss and metrics are returned.
    /// </summary>
    public static PairLossStats BatchInto(ReadOnlySpan<double> chosen, ReadOnlySpan<double> rejected, ReadOnlySpan<int> chosenLengths,
        ReadOnlySpan<int> rejectedLengths, double beta, double gamma, double labelSmoothing, Span<double> dChosen, Span<double> dRejected)
    {
        PairInputs.Check("SimPO", chosen, rejected, chosenLengths, rejectedLengths, dChosen, dRejected);
        if (!double.IsFinite(beta) || beta <= 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"--beta: {beta} must be a finite number above 0");
        if (!double.IsFinite(gamma) || gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"--simpo-gamma: {gamma} must be finite and ≥ 0");
        if (!(labelSmoothing >= 0 && labelSmoothing <= 0.5)) throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"--label-smoothing: {labelSmoothing} must be in [0, 0.5]");
        int n = chosen.Length;
        double loss = 0, rc = 0, rr = 0, acc = 0;
        for (int i = 0; i < n; i++)
        {
            double ac = chosen[i] / chosenLengths[i], ar = rejected[i] / rejectedLengths[i];
            double x = beta * (ac - ar - gamma / beta);
            loss += -(1 - labelSmoothing) * PreferenceMath.LogSigmoid(x) - labelSmoothing * PreferenceMath.LogSigmoid(-x);
            double dh = (-beta * (1 - labelSmoothing) * PreferenceMath.Sigmoid(-x) + beta * labelSmoothing * PreferenceMath.Sigmoid(x)) / n;
            dChosen[i] = dh / chosenLengths[i];
            dRejected[i] = -dh / rejectedLengths[i];
            rc += beta * ac; rr += beta * ar;
            acc += beta * ac > beta * ar ? 1 : 0;
        }
        return new PairLossStats(loss / n, rc / n, rr / n, acc / n, (rc - rr) / n, rc / beta / n, rr / beta / n, OddsRatio: null);
    }
}
