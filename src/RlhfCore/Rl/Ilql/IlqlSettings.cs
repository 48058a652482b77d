namespace RlhfCore.Rl.Ilql;

/// <summary>
/// ILQL's options, named and defaulted as trlx's ILQLConfig (trlx/data/default_configs.py: tau 0.7, gamma 0.99,
/// cql_scale 0.1, awac_scale 1, alpha 0.001, beta 0, steps_for_target_q_sync 5, two_qs true).
/// </summary>
/// <param name="Tau">τ of V's expectile regression, in (0, 1): above 0.5 V tracks the upper part of the target Q's distribution.</param>
/// <param name="Gamma">γ, the discount of the TD target r + γ·V(s').</param>
/// <param name="CqlScale">Weight of the CQL term (cross-entropy of Q over the vocabulary at the taken action).</param>
/// <param name="AwacScale">Weight of the AWAC-style LM loss (cross-entropy of the LM logits at the taken action).</param>
/// <param name="Alpha">Polyak rate of the target Q heads: target ← α·Q + (1 − α)·target, in (0, 1].</param>
/// <param name="Beta">β of the AWAC weight exp(β·(min target Q − V)) (detached); 0 makes the LM loss plain behaviour cloning.</param>
/// <param name="TwoQs">Two Q heads and the min of their targets (clipped double Q), or one.</param>
/// <param name="TargetSyncEvery">Optimizer steps between Polyak updates of the target heads.</param>
public sealed record IlqlSettings(double Tau = 0.7, double Gamma = 0.99, double CqlScale = 0.1, double AwacScale = 1.0, double Alpha = 0.001,
    double Beta = 0.0, bool TwoQs = true, int TargetSyncEvery = 5)
{
    /// <summary>Throws one clear error naming the flag for the first setting out of range.</summary>
    public void Validate()
    {
        if (!(Tau > 0 && Tau < 1)) throw new ArgumentOutOfRangeException(nameof(Tau), Tau, $"--tau: {Tau} must be strictly between 0 and 1 (the expectile of V's regression)");
        if (!(Gamma >= 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, $"--gamma: {Gamma} must be in [0, 1]");
        if (!(CqlScale >= 0) || double.IsInfinity(CqlScale)) throw new ArgumentOutOfRangeException(nameof(CqlScale), CqlScale, $"--cql-scale: {CqlScale} must be finite and ≥ 0");
        if (!(AwacScale >= 0) || double.IsInfinity(AwacScale)) throw new ArgumentOutOfRangeException(nameof(AwacScale), AwacScale, $"--awac-scale: {AwacScale} must be finite and ≥ 0");
        if (!(Alpha > 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, $"--alpha: {Alpha} must be in (0, 1] (the target heads' Polyak rate)");
        if (!(Beta >= 0) || double.IsInfinity(Beta)) throw new ArgumentOutOfRangeException(nameof(Beta), Beta, $"--beta: {Beta} must be finite and ≥ 0");
        if (TargetSyncEvery < 1) throw new ArgumentOutOfRangeException(nameof(TargetSyncEvery), TargetSyncEvery, $"--target-sync-every: {TargetSyncEvery} must be at least 1");
    }
}
