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
        s.Validate();
        int n = policyLogp.Length;
        if (n == 0 || refLogp.Length != n || desirable.Length != n) throw new ArgumentException($"KTO: {n} policy log-probs, {refLogp.Length} reference, {desirable.Length} labels: one each per example, at least one");
        if (policyKlLogp.Length != refKlLogp.Length) throw new ArgumentException($"KTO: {policyKlLogp.Length} policy and {refKlLogp.Length} reference KL log-probs");
        double z0 = 0;
        if (policyKlLogp.Length > 0)
        {
            for (int i = 0; i < policyKlLogp.Length; i++) z0 += policyKlLogp[i] - refKlLogp[i];
            z0 = Math.Max(0, z0 / policyKlLogp.Length);
        }
        var dPolicy = new double[n];
        var dRef = new double[n];
        var rewards = new double[n];
        double loss = 0;
        for (int i = 0; i < n; i++)
        {
            double r = policyLogp[i] - refLogp[i];
            rewards[i] = s.Beta * r;
            double x = desirable[i] ? s.Beta * (r - z0) : s.Beta * (z0 - r);
            double w = desirable[i] ? s.DesirableWeight : s.UndesirableWeight;
            double sig = PreferenceMath.Sigmoid(x);
            loss += w * (1 - sig);
            // d(1 − σ(x))/dx = −σ(x)(1 − σ(x)); dx/dπ = ±β
            double g = -w * sig * (1 - sig) * (desirable[i] ? s.Beta : -s.Beta) / n;
            dPolicy[i] = g;
            dRef[i] = -g;
        }
        var metrics = new Dictionary<string, double> { ["kl"] = z0 };
        int chosen = 0;
        foreach (bool d in desirable) if (d) chosen++;
        metrics["count/chosen"] = chosen;
        metrics["count/rejected"] = n - chosen;
        double? rc = PreferenceMath.MeanWhere(rewards, desirable, true), rr = PreferenceMath.MeanWhere(rewards, desirable, false);
        if (rc is double c) { metrics["rewards/chosen"] = c; metrics["logps/chosen"] = PreferenceMath.MeanWhere(policyLogp, desirable, true)!.Value; }
        if (rr is double j) { metrics["rewards/rejected"] = j; metrics["logps/rejected"] = PreferenceMath.MeanWhere(policyLogp, desirable, false)!.Value; }
        if (rc is double c2 && rr is double j2) metrics["rewards/margins"] = c2 - j2;
        return new KtoResult(loss / n, dPolicy, dRef, z0, metrics);
    }
}
