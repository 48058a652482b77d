using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Reward;

/// <summary>
/// Every setting of a reward-model run: <see cref="DatasetTrainerOptions"/>'s shared ones with the reward
/// model's defaults, and its own. CLI flags map onto these one to one, and the resolved record is written as
/// <c>config.json</c> beside the run's outputs. Callers that train in memory (the pipeline) use the optimizer,
/// batch, loss and schedule fields and ignore the file ones.
/// </summary>
[OptionDescription(nameof(Data), "Feedback data: a JSONL file (pairs, HH transcripts, rankings, ratings or approvals; .gz allowed) or builtin:arithmetic.")]
[OptionDescription(nameof(EvalData), "Held-out feedback; when empty, a fraction of the training records is held out.")]
[OptionDescription(nameof(EvalFraction), "Fraction of records held out for evaluation when EvalData is empty.")]
[OptionDescription(nameof(InitFrom), "SFT checkpoint to start from (safetensors or llm.c .bin); the reward head is created fresh.")]
[OptionDescription(nameof(Batch), "Feedback records per micro-batch (a pair is 2 sequences, a ranking K).")]
[OptionDescription(nameof(EvalEvery), "Evaluate on the held-out records every this many steps (0 = only at the end).")]
[OptionDescription(nameof(Seed), "Seed of everything random (initialization, the held-out split, shuffling).")]
public sealed record RewardOptions : DatasetTrainerOptions
{
    /// <summary>The reward model's defaults.</summary>
    public RewardOptions()
        : base(outDir: "runs/reward", steps: 300, lr: 1e-3f, warmup: 20, weightDecay: 0.1f, checkpointEvery: 100,
            batch: 16, evalFraction: 0.1, evalEvery: 50)
    {
    }

    /// <summary>Feedback layout: auto (from the first line's keys), pairs, transcripts, rankings, ratings or approvals.</summary>
    [Description("Feedback layout: auto (from the first line's keys), pairs, transcripts, rankings, ratings or approvals.")]
    public string Kind { get; init; } = "auto";
    /// <summary>Leave out records with bad content (identical or empty completions, duplicate rankings) and list them, instead of stopping.</summary>
    [Description("Leave out records with bad content (identical or empty completions, duplicate rankings) and list them, instead of stopping.")]
    public bool SkipInvalid { get; init; }
    /// <summary>When prompt + completion exceed SeqLen: Error, TruncateLeft (drop the prompt's oldest tokens) or Skip.</summary>
    [Description("When prompt + completion exceed SeqLen: Error, TruncateLeft (drop the prompt's oldest tokens) or Skip.")]
    public PromptOverflow Overflow { get; init; } = PromptOverflow.Error;
    /// <summary>Append the end-of-text token to every completion (as a generated completion that stopped at EOS ends).</summary>
    [Description("Append the end-of-text token to every completion (as a generated completion that stopped at EOS ends).")]
    public bool AppendEos { get; init; } = true;
    /// <summary>Accept empty completions as feedback (each scored as prompt + EOS: an empty answer is a real answer); needs AppendEos.</summary>
    [Description("Accept empty completions as feedback (each scored as prompt + EOS: an empty answer is a real answer); needs AppendEos.")]
    public bool AllowEmptyCompletions { get; init; }
    /// <summary>Train an ensemble of this many reward models, each with its own seed and bootstrap resample of the training feedback (1 = one model).</summary>
    [Description("Train an ensemble of this many reward models, each with its own seed and bootstrap resample of the training feedback (1 = one model).")]
    [Bounds(1, 64)]
    public int Ensemble { get; init; } = 1;
    /// <summary>Ensemble members' trunks: Own (every member a full model trained on its resample) or Shared (member 0's trained trunk, frozen, with a fresh head per further member fitted on its resample; about one model's cost).</summary>
    [Description("Ensemble members' trunks: Own (every member a full model trained on its resample) or Shared (member 0's trained trunk, frozen, with a fresh head per further member fitted on its resample; about one model's cost).")]
    public RlhfCore.Training.Reward.Ensemble.EnsembleTrunk EnsembleTrunk { get; init; } = RlhfCore.Training.Reward.Ensemble.EnsembleTrunk.Own;
    /// <summary>Model preset for a fresh model (ignored when InitFrom is set).</summary>
    [Description("Model preset for a fresh model (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-tiny";
    /// <summary>Tokens per sequence (at most the model's context).</summary>
    [Description("Tokens per sequence (at most the model's context).")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 16;
    /// <summary>Reward centering: adds this × mean((sum of each pair's or ranking's scores)²) to the loss (TRL's center_rewards_coefficient); 0 = off.</summary>
    [Description("Reward centering: adds this × mean((sum of each pair's or ranking's scores)²) to the loss (TRL's center_rewards_coefficient); 0 = off.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double CenterRewardsCoefficient { get; init; }
    /// <summary>Held-out records per evaluation, always the same ones (0 = all).</summary>
    [Description("Held-out records per evaluation, always the same ones (0 = all).")]
    [Bounds(0, int.MaxValue)]
    public int EvalMax { get; init; }

    /// <summary>Throws naming the flag when a value is out of range (<see cref="OptionException"/> for a number) or the kind is unknown.</summary>
    public RewardOptions Validate()
    {
        OptionBounds.Check(this);
        if (AllowEmptyCompletions && !AppendEos) throw new ArgumentException("--allow-empty-completions needs --append-eos: an empty completion without EOS leaves nothing after the prompt to score");
        FeedbackReader.ParseKind(Kind);
        return this;
    }
}
