using RlhfCore.Model;

namespace RlhfCore.Rl;

/// <summary>
/// TR-DPO's reference updates (Gorbatovski et al. 2024, "Learn Your Reference Model for Real Good Alignment"; TRL's
/// sync_ref_model with ref_model_mixup_alpha and ref_model_sync_steps): every <see cref="Every"/> optimizer steps the
/// reference becomes π_ref ← α·π + (1 − α)·π_ref, on the device with <see cref="Backends.IBackend.LinearCombination"/>,
/// over every parameter the two models share by name (the policy's value head, if any, has no counterpart).
/// </summary>
/// <param name="Every">Steps between updates; 0 turns them off.</param>
/// <param name="Alpha">α in [0, 1]: 1 copies the policy, 0 keeps the reference.</param>
public sealed record ReferenceSync(int Every, double Alpha)
{
    /// <summary>Whether the reference is updated after <paramref name="stepsDone"/> completed steps.</summary>
    public bool DueAfter(int stepsDone) => Every > 0 && stepsDone > 0 && stepsDone % Every == 0;

    /// <summary>π_ref ← α·π + (1 − α)·π_ref for every parameter of <paramref name="reference"/> (the policy must have each).</summary>
    public void Mix(GptModel policy, GptModel reference)
    {
        if (!(Alpha >= 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, $"--ref-mix: {Alpha} must be in [0, 1]");
        if (policy.Backend != reference.Backend) throw new ArgumentException("--ref-sync-every: the policy and the reference must live on the same backend");
        var be = reference.Backend;
        for (int i = 0; i < reference.Table.Count; i++)
        {
            var spec = reference.Table[i];
            if (!policy.Parameters.Contains(spec.Name))
                throw new ArgumentException($"--ref-sync-every: the reference's parameter '{spec.Name}' has no counterpart in the policy");
            var r = reference.Parameters.Tensors[i];
            var p = policy.Parameters[spec.Name];
            if (p.Length != r.Length) throw new ArgumentException($"--ref-sync-every: '{spec.Name}' has {p.Length} values in the policy and {r.Length} in the reference");
            be.LinearCombination(r, p, r, (float)Alpha, (float)(1 - Alpha), r.Length);
        }
    }
}
