using System.ComponentModel;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ilql;

/// <summary>
/// Every setting of an ILQL run (implicit language Q-learning, Snell et al. 2022): <see cref="DatasetTrainerOptions"/>'s shared
/// ones with ILQL's defaults, and <see cref="IlqlSettings"/>'s fields named and defaulted as trlx's ILQLConfig. CLI flags map
/// onto these one to one, and the resolved record is written as <c>config.json</c> beside the run's outputs.
/// </summary>
[OptionDescription(nameof(Data), "Reward-labelled completions: ratings JSONL {\"prompt\",\"completion\",\"rating\"} (reward = rating) or approvals JSONL {\"prompt\",\"completion\",\"label\"} (reward 1 or 0).")]
[OptionDescription(nameof(EvalData), "Held-out ratings or approvals; when empty, a fraction of the training examples is held out.")]
[OptionDescription(nameof(EvalFraction), "Fraction of examples held out for evaluation when EvalData is empty.")]
[OptionDescription(nameof(InitFrom), "The SFT checkpoint the trunk and LM head start from (the same as --model).")]
[OptionDescription(nameof(Batch), "Completions per micro-batch.")]
[OptionDescription(nameof(Seed), "Seed of everything random (head initialization, shuffling).")]
public sealed record IlqlOptions : DatasetTrainerOptions
{
    /// <summary>ILQL's defaults (the schedule as DPO's: a short fine-tuning from an SFT checkpoint).</summary>
    public IlqlOptions()
        : base(outDir: "runs/ilql", steps: 200, lr: 1e-4f, warmup: 10, weightDecay: 0f, checkpointEvery: 100,
            batch: 8, evalFraction: 0.05, evalEvery: 25)
    {
        // ILQL has no built-in data: the rewards come from a file (or, in the pipeline, from the round's reward model).
        Data = "";
    }

    /// <summary>The SFT checkpoint the trunk and LM head start from (required unless --init-from is given).</summary>
    [Description("The SFT checkpoint the trunk and LM head start from (required unless --init-from names it).")]
    public string? Model { get; init; }
    /// <summary>τ of V's expectile regression (trlx's tau, 0.7): above 0.5 V tracks the upper part of the target Q's distribution.</summary>
    [Description("τ of V's expectile regression, strictly between 0 and 1 (trlx's tau): above 0.5 V tracks the upper part of the target Q's distribution.")]
    [Bounds(0, 1, MinExclusive = true, MaxExclusive = true, Why = "the expectile of V's regression")]
    public double Tau { get; init; } = 0.7;
    /// <summary>γ, the discount of the TD target r + γ·V(s') (trlx's gamma, 0.99).</summary>
    [Description("γ, the discount of the TD target r + γ·V(s') (trlx's gamma).")]
    [Bounds(0, 1)]
    public double Gamma { get; init; } = 0.99;
    /// <summary>Weight of the CQL term, the cross-entropy of Q over the vocabulary at the taken token (trlx's cql_scale, 0.1).</summary>
    [Description("Weight of the CQL term, the cross-entropy of Q over the vocabulary at the taken token (trlx's cql_scale).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double CqlScale { get; init; } = 0.1;
    /// <summary>Weight of the AWAC-style LM loss (trlx's awac_scale, 1).</summary>
    [Description("Weight of the AWAC-style LM loss, the LM cross-entropy at the taken token weighted by exp(β·advantage) (trlx's awac_scale).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double AwacScale { get; init; } = 1.0;
    /// <summary>Polyak rate of the target Q heads: target ← α·Q + (1 − α)·target (trlx's alpha, 0.001).</summary>
    [Description("Polyak rate of the target Q heads: target ← α·Q + (1 − α)·target (trlx's alpha).")]
    [Bounds(0, 1, MinExclusive = true)]
    public double Alpha { get; init; } = 0.001;
    /// <summary>β of the AWAC weight exp(β·(min target Q − V)) (trlx's beta, 0: the LM loss is behaviour cloning).</summary>
    [Description("β of the AWAC weight exp(β·(min target Q − V)) in training (trlx's beta; 0 makes the LM loss behaviour cloning). Decoding's β is rlhf generate --ilql-beta.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double Beta { get; init; }
    /// <summary>Two Q heads and the min of their targets (clipped double Q), or one (trlx's two_qs, true).</summary>
    [Description("Two Q heads and the min of their targets (clipped double Q), or one (trlx's two_qs).")]
    public bool TwoQs { get; init; } = true;
    /// <summary>Optimizer steps between Polyak updates of the target heads (trlx's steps_for_target_q_sync, 5).</summary>
    [Description("Optimizer steps between Polyak updates of the target heads (trlx's steps_for_target_q_sync).")]
    [Bounds(1, Limits.MaxSteps)]
    public int TargetSyncEvery { get; init; } = 5;
    /// <summary>Inputs per row: prompt + completion + end-of-text must be at most this plus one tokens.</summary>
    [Description("Inputs per row: prompt + completion + end-of-text must be at most this plus one tokens.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 32;
    /// <summary>Held-out batches per evaluation (0 = all held-out examples).</summary>
    [Description("Held-out batches per evaluation (0 = all held-out examples).")]
    [Bounds(0, Limits.MaxCount)]
    public int EvalBatches { get; init; } = 8;

    /// <summary>The ILQL loss settings these options name.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IlqlSettings Settings => new(Tau, Gamma, CqlScale, AwacScale, Alpha, Beta, TwoQs, TargetSyncEvery);

    /// <summary>The checkpoint the policy starts from: --model, else --init-from.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? Source => Model ?? InitFrom;

    /// <summary>
    /// <see cref="Validate"/>, and --data must name a file (what <c>rlhf ilql</c> needs; the pipeline trains on in-memory
    /// examples and leaves it empty).
    /// </summary>
    public IlqlOptions ValidateWithData()
    {
        Validate();
        if (string.IsNullOrEmpty(Data)) throw new OptionException("--data", "is required: a ratings {\"prompt\",\"completion\",\"rating\"} or approvals {\"prompt\",\"completion\",\"label\"} JSONL file");
        return this;
    }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public IlqlOptions Validate()
    {
        OptionBounds.Check(this);
        Settings.Validate();
        if (Model != null && InitFrom != null && Model != InitFrom)
            throw new OptionException("--model", $"{Model} and --init-from {InitFrom} name two different starting checkpoints; give one");
        return this;
    }
}
