using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

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
    [Description("Longest line of a JSONL file, in bytes; a longer line is an error naming it.")]
    [Bounds(1024, JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = JsonlReader.DefaultMaxLineBytes;
    [Description("Fraction of records held out for evaluation when EvalData is empty.")]
    [Bounds(0, 1, MaxExclusive = true)]
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
    [Bounds(1, 64)]
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
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 16;
    [Description("Tokens per sequence (at most the model's context).")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 16;
    [Description("Optimizer steps.")]
    public int Steps { get; init; } = 300;
    [Description("Micro-batches per optimizer step.")]
    [Bounds(1, Limits.MaxGradAccum)]
    public int GradAccum { get; init; } = 1;
    [Description("Peak learning rate.")]
    public float Lr { get; init; } = 1e-3f;
    [Description("Linear warmup steps.")]
    public int Warmup { get; init; } = 20;
    [Description("Schedule after warmup.")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    [Description("Cosine floor as a fraction of the peak rate.")]
    [Bounds(0, 1)]
    public float MinLrFraction { get; init; } = 0.1f;
    [Description("AdamW β1.")]
    public float Beta1 { get; init; } = 0.9f;
    [Description("AdamW β2.")]
    public float Beta2 { get; init; } = 0.95f;
    [Description("AdamW ε.")]
    public float Eps { get; init; } = 1e-8f;
    [Description("Decoupled weight decay on 2-D weights.")]
    public float WeightDecay { get; init; } = 0.1f;
    [Description("Update rule of every parameter tensor: AdamW, Sgd (momentum, optionally Nesterov), Lion, or Muon (2-D hidden weights; AdamW for embeddings, heads and 1-D tensors); --param-group overrides it per tensor. The learning rate is --lr for every rule (Lion usually wants 3–10× less than AdamW).")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    [Description("SGD momentum μ (0 = plain SGD).")]
    public float Momentum { get; init; } = 0.9f;
    [Description("Nesterov momentum for SGD.")]
    public bool Nesterov { get; init; }
    [Description("Lion β1 (the interpolation whose sign is the update; the paper's 0.9).")]
    public float LionBeta1 { get; init; } = 0.9f;
    [Description("Lion β2 (momentum decay; the paper's 0.99).")]
    public float LionBeta2 { get; init; } = 0.99f;
    [Description("Muon momentum μ (modded-nanogpt's 0.95; Nesterov).")]
    public float MuonMomentum { get; init; } = 0.95f;
    [Description("Parameter group \"pattern:key=value,…\" (repeatable): a glob over Hugging Face GPT-2 tensor names (wte, h.*.attn.*, ln_f) with keys lr (multiplier of the rate), weight_decay and optimizer. A pattern matching nothing, or two that overlap, is an error.")]
    public string[] ParamGroup { get; init; } = [];
    [Description("Clip the global gradient norm to this; 0 turns clipping off.")]
    public float GradClip { get; init; } = 1f;
    [Description("Reward centering: adds this × mean((sum of each pair's or ranking's scores)²) to the loss (TRL's center_rewards_coefficient); 0 = off.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double CenterRewardsCoefficient { get; init; }
    [Description("Evaluate on the held-out records every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int EvalEvery { get; init; } = 50;
    [Description("Held-out records per evaluation, always the same ones (0 = all).")]
    [Bounds(0, int.MaxValue)]
    public int EvalMax { get; init; }
    [Description("Save a resumable checkpoint every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int CheckpointEvery { get; init; } = 100;
    [Description("Seed of everything random (initialization, the held-out split, shuffling).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Output folder.")]
    public string OutDir { get; init; } = "runs/reward";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }
    [Description("Start a fresh run in an OutDir that holds an earlier run, after moving that run aside to OUTDIR.replaced-TIMESTAMP (nothing is deleted).")]
    public bool Overwrite { get; init; }

    /// <summary>Throws naming the flag when a value is out of range (<see cref="OptionException"/> for a number) or the kind is unknown.</summary>
    public RewardOptions Validate()
    {
        OptionBounds.Check(this);
        if (AllowEmptyCompletions && !AppendEos) throw new ArgumentException("--allow-empty-completions needs --append-eos: an empty completion without EOS leaves nothing after the prompt to score");
        FeedbackReader.ParseKind(Kind);
        return this;
    }
}
