using RlhfCore.Rl.Preference;
using RlhfCore.Model;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// One DPO micro-batch: the frozen reference and then the policy score the same uploaded rows (they share
/// one activation arena, since the reference's log-probs are read before the policy runs), the loss and its
/// gradient with respect to each row's log-prob are computed per pair on the host in float64, and the policy
/// backward runs from them. The reference never receives gradients. ORPO and SimPO have no reference: their batch
/// losses (<see cref="OrpoLoss"/>, <see cref="SimpoLoss"/>) run on the policy's summed log-probs alone.
/// </summary>
public sealed class DpoStep : IDisposable
{
    private readonly GptModel _policy;
    private readonly GptModel? _reference;
    private readonly SequenceLogProbs _logProbs;
    private readonly double[] _policyLogp, _refLogp, _dlogp, _dChosen, _dRejected;
    private KtoSettings? _ktoWithBeta;

    /// <summary>Loss settings.</summary>
    public DpoLossKind Kind { get; }
    /// <summary>β: the strength of the implicit KL tie to the reference.</summary>
    public double Beta { get; }
    /// <summary>cDPO label smoothing ε (sigmoid and SimPO losses).</summary>
    public double LabelSmoothing { get; }
    /// <summary>ORPO's λ.</summary>
    public double OrpoLambda { get; init; } = 0.1;
    /// <summary>SimPO's target margin γ.</summary>
    public double SimpoGamma { get; init; } = 0.5;

    /// <summary>Whether <paramref name="kind"/> compares the policy with a reference model.</summary>
    public static bool UsesReference(DpoLossKind kind) => kind is DpoLossKind.Sigmoid or DpoLossKind.Ipo or DpoLossKind.Kto;
    /// <summary>KTO's β and weights (β is replaced by <see cref="Beta"/>).</summary>
    public KtoSettings Kto { get; init; } = new();

    /// <summary>
    /// A step for up to <paramref name="pairs"/> pairs of rows of <paramref name="seqLen"/> inputs; <paramref name="reference"/>
    /// is required by DPO and IPO and must be null for ORPO and SimPO.
    /// </summary>
    public DpoStep(GptModel policy, GptModel? reference, int pairs, int seqLen, DpoLossKind kind, double beta, double labelSmoothing)
    {
        if (UsesReference(kind))
        {
            if (reference == null) throw new ArgumentException($"the {kind} loss needs a reference model");
            if (policy == reference) throw new ArgumentException("the reference must be a separate, frozen copy of the policy");
            if (policy.Config != reference.Config)
                throw new ArgumentException($"the reference model ({reference.Config}) must have the policy's architecture ({policy.Config})");
            if (policy.Backend != reference.Backend) throw new ArgumentException("the policy and the reference must live on the same backend");
        }
        else if (reference != null) throw new ArgumentException($"the {kind} loss has no reference model: none should be loaded");
        if (seqLen > policy.Config.MaxSeqLen)
            throw new ArgumentException($"--seq-len {seqLen} is longer than the model's context of {policy.Config.MaxSeqLen} tokens");
        if (!(beta > 0) || double.IsInfinity(beta)) throw new ArgumentException($"--beta must be positive, got {beta}");
        if (labelSmoothing is < 0 or >= 0.5) throw new ArgumentException($"--label-smoothing must be in [0, 0.5), got {labelSmoothing}");
        if (labelSmoothing > 0 && kind is not (DpoLossKind.Sigmoid or DpoLossKind.Simpo))
            throw new ArgumentException("--label-smoothing applies to the sigmoid (DPO) and Simpo losses only");
        _policy = policy;
        _reference = reference;
        Kind = kind;
        Beta = beta;
        LabelSmoothing = labelSmoothing;
        _logProbs = new SequenceLogProbs(policy.Backend, policy.Config, 2 * pairs, seqLen);
        _policyLogp = new double[2 * pairs];
        _refLogp = new double[2 * pairs];
        _dlogp = new double[2 * pairs];
        _dChosen = new double[pairs];
        _dRejected = new double[pairs];
    }

    /// <summary>
    /// Scores <paramref name="batch"/>, adds each pair to <paramref name="metrics"/>, and with
    /// <paramref name="backward"/> accumulates the gradient of <paramref name="lossScale"/>·Σ pair losses into
    /// the policy's gradients. Returns the batch's summed loss (NaN or ∞ when any pair's is).
    /// </summary>
    public double Run(DpoBatch batch, bool backward, double lossScale, DpoMetricsSum metrics)
    {
        int P = batch.Pairs;
        _logProbs.Upload(batch);
        if (_reference == null) return RunReferenceFree(batch, backward, lossScale, metrics);
        _logProbs.Forward(_reference, _refLogp);
        _logProbs.Forward(_policy, _policyLogp);
        if (Kind == DpoLossKind.Kto) return RunKto(batch, backward, lossScale, metrics);
        double total = 0;
        for (int i = 0; i < P; i++)
        {
            int c = i, r = P + i;
            // IPO compares per-token mean log-probs (TRL's average_log_prob for "ipo"); DPO compares sums.
            double nc = Kind == DpoLossKind.Ipo ? 1.0 / batch.CompletionTokens[c] : 1;
            double nr = Kind == DpoLossKind.Ipo ? 1.0 / batch.CompletionTokens[r] : 1;
            double pc = _policyLogp[c] * nc, pr = _policyLogp[r] * nr;
            var pair = DpoLoss.Pair(Kind, Beta, LabelSmoothing, pc, pr, _refLogp[c] * nc, _refLogp[r] * nr);
            metrics.Add(pair, pc, pr);
            total += pair.Loss;
            _dlogp[c] = lossScale * pair.DLossDMargin * nc;
            _dlogp[r] = -lossScale * pair.DLossDMargin * nr;
        }
        if (backward) _logProbs.Backward(_policy, _dlogp.AsSpan(0, 2 * P));
        return total;
    }

    /// <summary>
    /// ORPO or SimPO on the uploaded batch: a batch loss (a mean over pairs, ORPO's SFT term a token mean), so the
    /// summed loss returned is P·loss and the row gradients are lossScale·P·∂loss/∂S, as for the per-pair losses.
    /// </summary>
    private double RunReferenceFree(DpoBatch batch, bool backward, double lossScale, DpoMetricsSum metrics)
    {
        int P = batch.Pairs;
        _logProbs.Forward(_policy, _policyLogp);
        ReadOnlySpan<double> chosen = _policyLogp.AsSpan(0, P), rejected = _policyLogp.AsSpan(P, P);
        ReadOnlySpan<int> chosenLengths = batch.CompletionTokens.AsSpan(0, P), rejectedLengths = batch.CompletionTokens.AsSpan(P, P);
        Span<double> dChosen = _dChosen.AsSpan(0, P), dRejected = _dRejected.AsSpan(0, P);
        var result = Kind == DpoLossKind.Orpo
            ? OrpoLoss.BatchInto(chosen, rejected, chosenLengths, rejectedLengths, OrpoLambda, dChosen, dRejected)
            : SimpoLoss.BatchInto(chosen, rejected, chosenLengths, rejectedLengths, Beta, SimpoGamma, LabelSmoothing, dChosen, dRejected);
        metrics.Add(result, P);
        for (int i = 0; i < P; i++)
        {
            _dlogp[i] = lossScale * P * dChosen[i];
            _dlogp[P + i] = lossScale * P * dRejected[i];
        }
        if (backward) _logProbs.Backward(_policy, _dlogp.AsSpan(0, 2 * P));
        return result.Loss * P;
    }

    /// <summary>
    /// KTO on the scored batch: rows [0, P) are the examples, rows [P, 2P) their KL pairs (each prompt with another
    /// example's completion), which set the detached reference point and get no gradient. A batch loss, as ORPO's.
    /// </summary>
    private double RunKto(DpoBatch batch, bool backward, double lossScale, DpoMetricsSum metrics)
    {
        int P = batch.Pairs;
        // The settings with this step's β, made once (Kto is set after construction).
        _ktoWithBeta ??= Kto with { Beta = Beta };
        Span<double> dPolicy = _dChosen.AsSpan(0, P);
        var result = KtoLoss.BatchInto(_policyLogp.AsSpan(0, P), _refLogp.AsSpan(0, P), batch.Desirable.AsSpan(0, P),
            _policyLogp.AsSpan(P, P), _refLogp.AsSpan(P, P), _ktoWithBeta, dPolicy);
        metrics.Add(result, P);
        for (int i = 0; i < P; i++)
        {
            _dlogp[i] = lossScale * P * dPolicy[i];
            _dlogp[P + i] = 0;
        }
        if (backward) _logProbs.Backward(_policy, _dlogp.AsSpan(0, 2 * P));
        return result.Loss * P;
    }

    /// <inheritdoc/>
    public void Dispose() => _logProbs.Dispose();
}
