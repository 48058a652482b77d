namespace RlhfCore.Training.Dpo;

/// <summary>The preference losses of TRL's <c>DPOTrainer</c> offered here.</summary>
public enum DpoLossKind
{
    /// <summary>DPO (Rafailov et al.): −log σ(β·h), with optional label smoothing (cDPO).</summary>
    Sigmoid,
    /// <summary>IPO (Azar et al.): (h − 1/(2β))², on per-token mean log-probs as TRL computes it.</summary>
    Ipo,
    /// <summary>ORPO (Hong et al. 2024, TRL's ORPOTrainer): the SFT loss plus λ times the odds-ratio loss; no reference model.</summary>
    Orpo,
    /// <summary>SimPO (Meng et al. 2024, TRL's CPOTrainer loss_type "simpo"): length-normalized log-likelihood with β and margin γ; no reference model.</summary>
    Simpo,
    /// <summary>KTO (Ethayarajh et al. 2024, TRL's KTOTrainer): unpaired approvals, desirable and undesirable weights, a batch-KL reference point.</summary>
    Kto,
}

/// <summary>One pair's loss, its derivative with respect to the margin h, and the implicit rewards.</summary>
/// <param name="Loss">The pair's loss.</param>
/// <param name="DLossDMargin">∂loss/∂h. Since h = (πc − refc) − (πr − refr), the four log-prob gradients are
/// ∂/∂πc = g, ∂/∂πr = −g, ∂/∂refc = −g, ∂/∂refr = g.</param>
/// <param name="ChosenReward">β·(πc − refc).</param>
/// <param name="RejectedReward">β·(πr − refr).</param>
public readonly record struct DpoPairLoss(double Loss, double DLossDMargin, double ChosenReward, double RejectedReward);

/// <summary>
/// The DPO-family losses on one pair, from the policy's and reference's completion log-probs, in float64.
/// With h = (πc − refc) − (πr − refr) (TRL's <c>logits</c>) and ε the label smoothing:
/// <list type="bullet">
/// <item>sigmoid: loss = −(1−ε)·log σ(βh) − ε·log σ(−βh); ∂loss/∂h = −β(1−ε)·σ(−βh) + βε·σ(βh).</item>
/// <item>IPO: loss = (h − 1/(2β))²; ∂loss/∂h = 2(h − 1/(2β)).</item>
/// </list>
/// log σ(x) is computed as −softplus(−x) so large margins neither overflow nor lose the small tail.
/// </summary>
public static class DpoLoss
{
    /// <summary>The loss, its margin derivative and the implicit rewards of one pair.</summary>
    public static DpoPairLoss Pair(DpoLossKind kind, double beta, double labelSmoothing,
        double policyChosen, double policyRejected, double refChosen, double refRejected)
    {
        double chosenRatio = policyChosen - refChosen, rejectedRatio = policyRejected - refRejected;
        double h = chosenRatio - rejectedRatio;
        double loss, grad;
        if (kind == DpoLossKind.Sigmoid)
        {
            double x = beta * h;
            loss = (1 - labelSmoothing) * Softplus(-x) + labelSmoothing * Softplus(x);
            grad = -beta * (1 - labelSmoothing) * Sigmoid(-x) + beta * labelSmoothing * Sigmoid(x);
        }
        else
        {
            double d = h - 1 / (2 * beta);
            loss = d * d;
            grad = 2 * d;
        }
        return new DpoPairLoss(loss, grad, beta * chosenRatio, beta * rejectedRatio);
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>1 / (1 + e⁻ˣ) without overflow.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
}
