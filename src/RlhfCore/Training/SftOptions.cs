using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training;

/// <summary>
/// Every setting of a supervised fine-tuning run. CLI flags map onto these one to one, and the
/// resolved record is written as <c>config.json</c> beside the run's outputs.
/// </summary>
public sealed record SftOptions : IOptimizerSettings
{
    [Description("Training data: a JSONL file ({\"text\"} or {\"prompt\",\"completion\"}), an llm.c token shard (.bin), a plain .txt, or builtin:arithmetic / builtin:reviews.")]
    public string Data { get; init; } = "builtin:arithmetic";
    [Description("Held-out data; when empty, a fraction of the training examples is held out.")]
    public string? EvalData { get; init; }
    [Description("Longest line of a JSONL file, in bytes; a longer line is an error naming it.")]
    [Bounds(1024, JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = JsonlReader.DefaultMaxLineBytes;
    [Description("Fraction of examples held out for evaluation when EvalData is empty.")]
    [Bounds(0, 1, MaxExclusive = true)]
    public double EvalFraction { get; init; } = 0.05;
    [Description("Model preset for a fresh model (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-small";
    [Description("Checkpoint to start from (safetensors, HF GPT-2 layout, or llm.c .bin).")]
    public string? InitFrom { get; init; }
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }
    [Description("A {\"prompt\",\"completion\"} example longer than SeqLen + 1 tokens: Error (naming its line), or Truncate (keep its first SeqLen + 1 tokens, dropping the completion's end and EOS). Packed {\"text\"} data is always cut into windows.")]
    public OverlongPolicy Overlong { get; init; } = OverlongPolicy.Error;
    [Description("Rows per micro-batch.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 32;
    [Description("Tokens per row.")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 16;
    [Description("Optimizer steps.")]
    public int Steps { get; init; } = 4000;
    [Description("Micro-batches per optimizer step.")]
    [Bounds(1, Limits.MaxGradAccum)]
    public int GradAccum { get; init; } = 1;
    [Description("Peak learning rate.")]
    public float Lr { get; init; } = 3e-3f;
    [Description("Linear warmup steps.")]
    public int Warmup { get; init; } = 100;
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
    [Description("Update rule of every parameter tensor: AdamW, Sgd (momentum, optionally Nesterov), Lion, Muon (2-D hidden weights; AdamW for embeddings, heads and 1-D tensors), or Adafactor (factored second moment); --param-group overrides it per tensor. The learning rate is --lr for every rule (Lion usually wants 3–10× less than AdamW).")]
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
    [Description("Evaluate every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int EvalEvery { get; init; } = 500;
    [Description("Batches per evaluation.")]
    [Bounds(0, Limits.MaxCount)]
    public int EvalBatches { get; init; } = 4;
    [Description("Save a resumable checkpoint every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int CheckpointEvery { get; init; } = 1000;
    /// <summary>Record optimizer telemetry every this many optimizer steps (0 = off).</summary>
    [Description("Record optimizer telemetry (per-tensor gradient, parameter and update norms, optimizer-state statistics) every this many optimizer steps into telemetry.jsonl and telemetry-*.svg heatmaps (0 = off).")]
    [Bounds(0, Limits.MaxSteps)]
    public int TelemetryEvery { get; init; }
    [Description("Seed of everything random (initialization, shuffling).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Output folder.")]
    public string OutDir { get; init; } = "runs/sft";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }
    [Description("Start a fresh run in an OutDir that holds an earlier run, after moving that run aside to OUTDIR.replaced-TIMESTAMP (nothing is deleted).")]
    public bool Overwrite { get; init; }

    /// <summary>Throws an <see cref="OptionException"/> naming the flag when a value is out of its range.</summary>
    public SftOptions Validate() => OptionBounds.Check(this);
}
