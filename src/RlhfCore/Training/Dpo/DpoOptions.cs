using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;
using RlhfCore.Rl;
using RlhfCore.Rl.Preference;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// Every setting of a DPO / IPO run: <see cref="DatasetTrainerOptions"/>'s shared ones with DPO's defaults,
/// and DPO's own. CLI flags map onto these one to one, and the resolved record is written as
/// <c>config.json</c> beside the run's outputs.
/// </summary>
[OptionDescription(nameof(Data), "Preference pairs: a JSONL file of {\"prompt\",\"chosen\",\"rejected\"} (for --loss Kto approvals {\"prompt\",\"completion\",\"label\"}), or builtin:arithmetic (correct vs off-by-1..3 sums).")]
[OptionDescription(nameof(EvalData), "Held-out pairs; when empty, a fraction of the training pairs is held out.")]
[OptionDescription(nameof(EvalFraction), "Fraction of pairs held out for evaluation when EvalData is empty.")]
[OptionDescription(nameof(InitFrom), "The SFT checkpoint the policy starts from (required).")]
[OptionDescription(nameof(Batch), "Pairs per micro-batch (each pair is two rows).")]
[OptionDescription(nameof(Seed), "Seed of everything random (built-in data, shuffling).")]
public sealed record DpoOptions : DatasetTrainerOptions, IPreferenceLossSettings, IReferenceSyncSettings
{
    /// <summary>DPO's defaults.</summary>
    public DpoOptions()
        : base(outDir: "runs/dpo", steps: 200, lr: 1e-4f, warmup: 10, weightDecay: 0f, checkpointEvery: 100,
            batch: 8, evalFraction: 0.05, evalEvery: 25)
    {
    }

    /// <summary>The frozen reference model; when empty, InitFrom (the usual choice).</summary>
    [Description("The frozen reference model; when empty, InitFrom (the usual choice).")]
    public string? Reference { get; init; }
    /// <summary>Loss: Sigmoid (DPO), Ipo, Kto (approvals data), Orpo or Simpo (the last two need no reference model).</summary>
    [Description("Loss: Sigmoid (DPO), Ipo, Kto (approvals data), Orpo or Simpo (the last two need no reference model).")]
    public DpoLossKind Loss { get; init; } = DpoLossKind.Sigmoid;
    /// <summary>β: how strongly the policy is tied to the reference (TRL's beta).</summary>
    [Description("β: how strongly the policy is tied to the reference (TRL's beta).")]
    [Bounds(0, Limits.MaxCoefficient, MinExclusive = true)]
    public double Beta { get; init; } = 0.1;
    /// <inheritdoc/>
    public double OrpoLambda { get; init; } = 0.1;
    /// <inheritdoc/>
    public double DesirableWeight { get; init; } = 1.0;
    /// <inheritdoc/>
    public double UndesirableWeight { get; init; } = 1.0;
    /// <inheritdoc/>
    public double SimpoGamma { get; init; } = 0.5;
    /// <summary>Label smoothing ε for conservative DPO and SimPO: the assumed rate of flipped labels.</summary>
    [Description("Label smoothing ε for conservative DPO and SimPO: the assumed rate of flipped labels.")]
    [Bounds(0, 0.5, MaxExclusive = true)]
    public double LabelSmoothing { get; init; }
    /// <summary>TR-DPO: every this many steps the reference becomes α·π + (1 − α)·π_ref (TRL's ref_model_sync_steps; 0 = frozen).</summary>
    [Description("TR-DPO: every this many steps the reference becomes α·π + (1 − α)·π_ref (TRL's ref_model_sync_steps; 0 = frozen).")]
    public int RefSyncEvery { get; init; }
    /// <inheritdoc/>
    public double RefMix { get; init; } = 0.6;
    /// <summary>Inputs per row: prompt + completion + end-of-text must be at most this plus one tokens.</summary>
    [Description("Inputs per row: prompt + completion + end-of-text must be at most this plus one tokens.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 32;
    /// <summary>Held-out batches per evaluation (0 = all held-out pairs).</summary>
    [Description("Held-out batches per evaluation (0 = all held-out pairs).")]
    [Bounds(0, Limits.MaxCount)]
    public int EvalBatches { get; init; } = 8;

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public DpoOptions Validate()
    {
        OptionBounds.Check(this);
        if (LabelSmoothing > 0 && Loss is not (DpoLossKind.Sigmoid or DpoLossKind.Simpo))
            throw new ArgumentException("--label-smoothing applies to the sigmoid (DPO) and Simpo losses only");
        if (RefSyncEvery > 0 && !NeedsReference) throw new ArgumentException($"--ref-sync-every: the {Loss} loss has no reference model to update");
        return this;
    }

    /// <summary>Whether the loss compares the policy with a reference model (DPO, IPO); ORPO and SimPO need none.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NeedsReference => Loss is DpoLossKind.Sigmoid or DpoLossKind.Ipo or DpoLossKind.Kto;

    /// <summary>KTO's settings from the flags.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public KtoSettings Kto => new(Beta, DesirableWeight, UndesirableWeight);
}
