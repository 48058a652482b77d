namespace RlhfCore.Rl.Preference;

/// <summary>Settings of <see cref="KtoLoss"/> (TRL's KTOConfig names: beta, desirable_weight, undesirable_weight).</summary>
/// <param name="Beta">β, the implicit reward's scale; above 0.</param>
/// <param name="DesirableWeight">λ_D, the weight of desirable examples' losses; ≥ 0.</param>
/// <param name="UndesirableWeight">λ_U, the weight of undesirable examples' losses; ≥ 0.</param>
public sealed record KtoSettings(double Beta = 0.1, double DesirableWeight = 1.0, double UndesirableWeight = 1.0)
{
    /// <summary>Throws one clear error naming the flag when a setting is out of range.</summary>
    public void Validate()
    {
        if (!double.IsFinite(Beta) || Beta <= 0) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, $"--beta: {Beta} must be a finite number above 0");
        if (!double.IsFinite(DesirableWeight) || DesirableWeight < 0)
            throw new ArgumentOutOfRangeException(nameof(DesirableWeight), DesirableWeight, $"--desirable-weight: {DesirableWeight} must be finite and ≥ 0");
        if (!double.IsFinite(UndesirableWeight) || UndesirableWeight < 0)
            throw new ArgumentOutOfRangeException(nameof(UndesirableWeight), UndesirableWeight, $"--undesirable-weight: {UndesirableWeight} must be finite and ≥ 0");
    }
}

/// <summary>One KTO batch: the loss, its gradients and TRL's metrics.</summary>
/// <param name="Loss">Mean over the examples of the weighted per-example losses.</param>
/// <param name="DPolicy">∂Loss/∂(policy log-prob) per example.</param>
/// <param name="DReference">∂Loss/∂(reference log-prob) per example (= −DPolicy; the reference is frozen).</param>
/// <param name="Kl">z₀, the detached reference point.</param>
/// <param name="Metrics">TRL's KTO metrics: rewards/chosen, rewards/rejected, rewards/margins, logps/chosen, logps/rejected
/// (each only when the batch has such examples), kl, count/chosen, count/rejected.</param>
public sealed record KtoResult(double Loss, double[] DPolicy, double[] DReference, double Kl, IReadOnlyDictionary<string, double> Metrics);

/// <summary>One KTO batch's loss and TRL's metrics, as <see cref="KtoLoss.BatchInto"/> returns them without allocating.</summary>
/// <param name="Loss">Mean over the examples of the weighted per-example losses.</param>
/// <param name="Kl"><c>kl</c>: z₀, the detached reference point.</param>
/// <param name="Chosen"><c>count/chosen</c>: desirable examples.</param>
/// <param name="Rejected"><c>count/rejected</c>: undesirable examples.</param>
/// <param name="RewardsChosen"><c>rewards/chosen</c>: mean β·(π − π_ref) of the desirable examples (NaN when none).</param>
/// <param name="RewardsRejected"><c>rewards/rejected</c> (NaN when no undesirable example).</param>
/// <param name="LogpsChosen"><c>logps/chosen</c>: mean policy log-prob of the desirable examples (NaN when none).</param>
/// <param name="LogpsRejected"><c>logps/rejected</c> (NaN when no undesirable example).</param>
public readonly record struct KtoStats(double Loss, double Kl, int Chosen, int Rejected, double RewardsChosen, double RewardsRejected,
    double LogpsChosen, double LogpsRejected)
{
    /// <summary>The metrics under TRL's names, each class's only when the batch has such examples (margins when it has both).</summary>
    public Dictionary<string, double> ToDictionary()
    {
        var metrics = new Dictionary<string, double> { ["kl"] = Kl, ["count/chosen"] = Chosen, ["count/rejected"] = Rejected };
        if (Chosen > 0) { metrics["rewards/chosen"] = RewardsChosen; metrics["logps/chosen"] = LogpsChosen; }
        if (Rejected > 0) { metrics["rewards/rejected"] = RewardsRejected; metrics["logps/rejected"] = LogpsRejected; }
        if (Chosen > 0 && Rejected > 0) metrics["rewards/margins"] = RewardsChosen - RewardsRejected;
        return metrics;
    }
}

/// <summary>
/// KTO (Ethayarajh et al. 2024, "KTO: Model Alignment as Prospect Theoretic Optimization"), as TRL's KTOTrainer with
/// loss_type "kto": unpaired examples labelled desirable or undesirable (approvals data), summed completion log-probs,
/// r = π − π_ref, and a reference point z₀ = max(0, mean over the batch's KL pairs of (π_KL − π_ref,KL)) — the KL pairs are
/// each prompt with another example's completion — detached (computed without gradient, as TRL does under no_grad).
/// Per example: desirable λ_D·(1 − σ(β(r − z₀))), undesirable λ_U·(1 − σ(β(z₀ − r))); the loss is their mean over all
/// examples. ∂/∂π of the desirable term is −λ_D·β·σ(x)(1 − σ(x)) with x = β(r − z₀); of the undesirable term
/// +λ_U·β·σ(y)(1 − σ(y)) with y = β(z₀ − r).
/// </summary>
public static class KtoLoss
{
    /// <summary>
    /// The data check before training: a weight above 0 on a class that has no examples is a data problem (the loss would
    /// silently drop that side). Throws one error naming <paramref name="source"/> and what is missing.
    /// </summary>
    public static void CheckData(int desirable, int undesirable, KtoSettings s, string source)
    {
        s.Validate();
        if (undesirable == 0 && s.UndesirableWeight > 0)
            throw new InvalidDataException($"{source}: KTO data has {desirable} desirable examples and no undesirable ones (label false / low rating), " +
                $"but --undesirable-weight is {s.UndesirableWeight} > 0: add undesirable examples, or set --undesirable-weight 0 to train on desirable ones only");
        if (desirable == 0 && s.DesirableWeight > 0)
            throw new InvalidDataException($"{source}: KTO data has {undesirable} undesirable examples and no desirable ones (label true / high rating), " +
                $"but --desirable-weight is {s.DesirableWeight} > 0: add desirable examples, or set --desirable-weight 0");
    }

    /// <summary>
    /// The loss on one batch of examples (<paramref name="policyLogp"/>, <paramref name="refLogp"/>, <paramref name="desirable"/>
    /// per example) with the KL pairs' log-probs (<paramref name="policyKlLogp"/>, <paramref name="refKlLogp"/>; empty gives z₀ = 0).
    /// </summary>
    public static KtoResult Batch(ReadOnlySpan<double> policyLogp, ReadOnlySpan<double> refLogp, ReadOnlySpan<bool> desirable,
        ReadOnlySpan<double> policyKlLogp, ReadOnlySpan<double> refKlLogp, KtoSettings s)
    {
        int n = policyLogp.Length;
        var dPolicy = new double[n];
        var stats = BatchInto(policyLogp, refLogp, desirable, policyKlLogp, refKlLogp, s, dPolicy);
        var dRef = new double[n];
        for (int i = 0; i < n; i++) dRef[i] = -dPolicy[i];
        return new KtoResult(stats.Loss, dPolicy, dRef, stats.Kl, stats.ToDictionary());
    }

    /// <summary>
    /// <see cref="Batch"/> without allocating (the training step's path): ∂Loss/∂(policy log-prob) goes into
    /// <paramref name="dPolicy"/> (one per example; ∂/∂reference is its negative), the loss and metrics are returned.
    /// </summary>
    public static KtoStats BatchInto(ReadOnlySpan<double> policyLogp, ReadOnlySpan<double> refLogp, ReadOnlySpan<bool> desirable,
        ReadOnlySpan<double> policyKlLogp, ReadOnlySpan<double> refKlLogp, KtoSettings s, Span<double> dPolicy)
    {
        s.Validate();
        int n = policyLogp.Length;
        if (n == 0 || refLogp.Length != n || desirable.Length != n) throw new ArgumentException($"KTO: {n} policy log-probs, {refLogp.Length} reference, {desirable.Length} labels: one each per example, at least one");
        if (policyKlLogp.Length != refKlLogp.Length) throw new ArgumentException($"KTO: {policyKlLogp.Length} policy and {refKlLogp.Length} reference KL log-probs");
        if (dPolicy.Length < n) throw new ArgumentException($"KTO: room for {dPolicy.Length} gradients, {n} examples");
        double z0 = 0;
        if (policyKlLogp.Length > 0)
        {
            for (int i = 0; i < policyKlLogp.Length; i++) z0 += policyKlLogp[i] - refKlLogp[i];
            z0 = Math.Max(0, z0 / policyKlLogp.Length);
        }
        double loss = 0, rewardsChosen = 0, rewardsRejected = 0, logpsChosen = 0, logpsRejected = 0;
        int chosen = 0;
        for (int i = 0; i < n; i++)
        {
            double r = policyLogp[i] - refLogp[i];
            double reward = s.Beta * r;
            double x = desirable[i] ? s.Beta * (r - z0) : s.Beta * (z0 - r);
            double w = desirable[i] ? s.DesirableWeight : s.UndesirableWeight;
            double sig = PreferenceMath.Sigmoid(x);
            loss += w * (1 - sig);
            // d(1 − σ(x))/dx = −σ(x)(1 − σ(x)); dx/dπ = ±β
            dPolicy[i] = -w * sig * (1 - sig) * (desirable[i] ? s.Beta : -s.Beta) / n;
            if (desirable[i]) { chosen++; rewardsChosen += reward; logpsChosen += policyLogp[i]; }
            else { rewardsRejected += reward; logpsRejected += policyLogp[i]; }
        }
        int rejected = n - chosen;
        return new KtoStats(loss / n, z0, chosen, rejected,
            chosen > 0 ? rewardsChosen / chosen : double.NaN, rejected > 0 ? rewardsRejected / rejected : double.NaN,
            chosen > 0 ? logpsChosen / chosen : double.NaN, rejected > 0 ? logpsRejected / rejected : double.NaN);
    }
}
