using System.ComponentModel;
using RlhfCore.Data.Feedback;
using RlhfCore.Optim;

namespace RlhfCore.Training.Reward;

/// <summary>
/// Every setting of a reward-model run. CLI flags map onto these one to one, and the resolved record is
/// written as <c>config.json</c> beside the run's outputs. Callers that train in memory (the pipeline)
/// use the optimizer, batch, loss and schedule fields and ignore the file ones.
/// </summary>
public sealed record RewardOptions : IOptimizerSettings
{
    [Description("Feedback data: a JSONL file (pairs, HH transcripts, rankings, ratings or approvals; .gz allowed) or builtin:arithmetic.")]
    public string Data { get; init; } = "builtin:arithmetic";
    [Description("Held-out feedback; when empty, a fraction of the training records is held out.")]
    public string? EvalData { get; init; }
    [Description("Fraction of records held out for evaluation when EvalData is empty.")]
    public double EvalFraction { get; init; } = 0.1;
    [Description("Feedback layout: auto (from the first line's keys), pairs, transcripts, rankings, ratings or approvals.")]
    public string Kind { get; init; } = "auto";
    [Description("Leave out records with bad content (identical or empty completions, duplicate rankings) and list them, instead of stopping.")]
    public bool SkipInvalid { get; init; }
    [Description("When prompt + completion exceed SeqLen: Error, TruncateLeft (drop the prompt's oldest tokens) or Skip.")]
    public PromptOverflow Overflow { get; init; } = PromptOverflow.Error;
    [Description("Append the end-of-text token to every completion (as a generated completion that stopped at EOS ends).")]
    public bool AppendEos { get; init; } = true;
    [Description("Accept empty completions as feedback (each scored as prompt + EOS: an empty answer is a real answer); needs AppendEos.")]
    public bool AllowEmptyCompletions { get; init; }
    [Description("Train an ensemble of this many reward models, each with its own seed and bootstrap resample of the training feedback (1 = one model).")]
    public int Ensemble { get; init; } = 1;
    [Description("Ensemble members' trunks: Own (every member a full model trained on its resample) or Shared (member 0's trained trunk, frozen, with a fresh head per further member fitted on its resample; about one model's cost).")]
    public RlhfCore.Training.Reward.Ensemble.EnsembleTrunk EnsembleTrunk { get; init; } = RlhfCore.Training.Reward.Ensemble.EnsembleTrunk.Own;
    [Description("Model preset for a fresh model (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-tiny";
    [Description("SFT checkpoint to start from (safetensors or llm.c .bin); the reward head is created fresh.")]
    public string? InitFrom { get; init; }
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }
    [Description("Feedback records per micro-batch (a pair is 2 sequences, a ranking K).")]
    public int Batch { get; init; } = 16;
    [Description("Tokens per sequence (at most the model's context).")]
    public int SeqLen { get; init; } = 16;
    [Description("Optimizer steps.")]
    public int Steps { get; init; } = 300;
    [Description("Micro-batches per optimizer step.")]
    public int GradAccum { get; init; } = 1;
    [Description("Peak learning rate.")]
    public float Lr { get; init; } = 1e-3f;
    [Description("Linear warmup steps.")]
    public int Warmup { get; init; } = 20;
    [Description("Schedule after warmup.")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    [Description("Cosine floor as a fraction of the peak rate.")]
    public float MinLrFraction { get; init; } = 0.1f;
    [Description("AdamW β1.")]
    public float Beta1 { get; init; } = 0.9f;
    [Description("AdamW β2.")]
    public float Beta2 { get; init; } = 0.95f;
    [Description("AdamW ε.")]
    public float Eps { get; init; } = 1e-8f;
    [Description("Decoupled weight decay on 2-D weights.")]
    public float WeightDecay { get; init; } = 0.1f;
    [Description("Clip the global gradient norm to this; 0 turns clipping off.")]
    public float GradClip { get; init; } = 1f;
    [Description("Reward centering: adds this × mean((sum of each pair's or ranking's scores)²) to the loss (TRL's center_rewards_coefficient); 0 = off.")]
    public double CenterRewardsCoefficient { get; init; }
    [Description("Evaluate on the held-out records every this many steps (0 = only at the end).")]
    public int EvalEvery { get; init; } = 50;
    [Description("Held-out records per evaluation, always the same ones (0 = all).")]
    public int EvalMax { get; init; }
    [Description("Save a resumable checkpoint every this many steps (0 = only at the end).")]
    public int CheckpointEvery { get; init; } = 100;
    [Description("Seed of everything random (initialization, the held-out split, shuffling).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Output folder.")]
    public string OutDir { get; init; } = "runs/reward";
    [Description("CPU threads (0 = all).")]
    public int Threads { get; init; }
    [Description("Backend: cpu or cuda.")]
    public string Device { get; init; } = "cpu";
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public RewardOptions Validate()
    {
        if (Batch < 1) throw new ArgumentException($"--batch must be positive, got {Batch}");
        if (SeqLen < 2) throw new ArgumentException($"--seq-len must be at least 2, got {SeqLen}");
        if (GradAccum < 1) throw new ArgumentException($"--grad-accum must be positive, got {GradAccum}");
        if (!(CenterRewardsCoefficient >= 0) || !double.IsFinite(CenterRewardsCoefficient))
            throw new ArgumentException($"--center-rewards-coefficient must be a finite number ≥ 0, got {CenterRewardsCoefficient}");
        if (EvalFraction is < 0 or >= 1) throw new ArgumentException($"--eval-fraction must be in [0, 1), got {EvalFraction}");
        if (EvalEvery < 0) throw new ArgumentException($"--eval-every must be ≥ 0, got {EvalEvery}");
        if (EvalMax < 0) throw new ArgumentException($"--eval-max must be ≥ 0, got {EvalMax}");
        if (Ensemble < 1) throw new ArgumentException($"--ensemble must be at least 1 (members of the reward-model ensemble), got {Ensemble}");
        if (AllowEmptyCompletions && !AppendEos) throw new ArgumentException("--allow-empty-completions needs --append-eos: an empty completion without EOS leaves nothing after the prompt to score");
        if (CheckpointEvery < 0) throw new ArgumentException($"--checkpoint-every must be ≥ 0, got {CheckpointEvery}");
        FeedbackReader.ParseKind(Kind);
        this.ValidateOptimizer();
        return this;
    }
}
