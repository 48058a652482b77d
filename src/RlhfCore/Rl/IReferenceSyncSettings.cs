using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Rl;

/// <summary>
/// The TR-DPO reference-update settings of <see cref="ReferenceSync"/>, carried by every options record whose stage has a
/// reference model (PPO family, DPO, the pipeline). Their ranges and default help are declared here once, as
/// <see cref="BoundsAttribute"/>s that <see cref="OptionBounds"/> checks for every implementing record; a record whose
/// steps mean something narrower (rollout steps) gives its own [Description].
/// </summary>
public interface IReferenceSyncSettings
{
    /// <summary>TR-DPO-style reference updates: every this many steps the reference becomes α·π + (1 − α)·π_ref (TRL's ref_model_sync_steps; 0 = frozen).</summary>
    [Description("TR-DPO-style reference updates: every this many policy steps (PPO-family rollouts, or DPO steps) the reference becomes α·π + (1 − α)·π_ref (TRL's ref_model_sync_steps; 0 = frozen).")]
    [Bounds(0, Limits.MaxCount)]
    int RefSyncEvery { get; }
    /// <summary>α of the reference updates, the policy's share (TRL's ref_model_mixup_alpha).</summary>
    [Description("α of the reference updates, the policy's share (TRL's ref_model_mixup_alpha).")]
    [Bounds(0, 1)]
    double RefMix { get; }
}
