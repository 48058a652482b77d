using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;

namespace RlhfCore.Training.Core;

/// <summary>
/// The settings every trainer shares (SFT, reward model, DPO, PPO): the model's source and tokenizer, the
/// optimizer and its schedule, clipping, checkpoint cadence, seed, output folder and backend. Each stage's
/// record derives from it, keeps only its own fields, and passes its own defaults to the constructor; CLI
/// flags map onto every property one to one (inherited ones included), and a stage replaces a shared
/// flag's help text with an <see cref="OptionDescriptionAttribute"/> where its meaning differs.
/// </summary>
public abstract record TrainerOptions : IOptimizerSettings
{
    /// <summary>The shared settings with the stage's own defaults for the values that differ between stages.</summary>
    protected TrainerOptions(string outDir, int steps, float lr, int warmup, float weightDecay, int checkpointEvery)
    {
        OutDir = outDir;
        Steps = steps;
        Lr = lr;
        Warmup = warmup;
        WeightDecay = weightDecay;
        CheckpointEvery = checkpointEvery;
    }

    /// <summary>Longest line of a JSONL file, in bytes.</summary>
    [Description("Longest line of a JSONL file, in bytes; a longer line is an error naming it.")]
    [Bounds(1024, JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = JsonlReader.DefaultMaxLineBytes;
    /// <summary>Checkpoint the model starts from; each stage describes what it must be.</summary>
    public string? InitFrom { get; init; }
    /// <summary>Tokenizer: byte, or gpt2.</summary>
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    /// <summary>Folder of the GPT-2 tokenizer files.</summary>
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }

    /// <summary>Optimizer steps (rollout steps for PPO).</summary>
    [Description("Optimizer steps.")]
    public int Steps { get; init; }
    /// <summary>Peak learning rate.</summary>
    [Description("Peak learning rate.")]
    public float Lr { get; init; }
    /// <summary>Linear warmup steps.</summary>
    [Description("Linear warmup steps.")]
    public int Warmup { get; init; }
    /// <summary>Schedule after warmup.</summary>
    [Description("Schedule after warmup.")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    /// <summary>Cosine floor as a fraction of the peak rate.</summary>
    [Description("Cosine floor as a fraction of the peak rate.")]
    [Bounds(0, 1)]
    public float MinLrFraction { get; init; } = 0.1f;
    /// <inheritdoc/>
    [Description("AdamW β1.")]
    public float Beta1 { get; init; } = 0.9f;
    /// <inheritdoc/>
    [Description("AdamW β2.")]
    public float Beta2 { get; init; } = 0.95f;
    /// <inheritdoc/>
    [Description("AdamW ε.")]
    public float Eps { get; init; } = 1e-8f;
    /// <inheritdoc/>
    [Description("Decoupled weight decay on 2-D weights.")]
    public float WeightDecay { get; init; }
    /// <inheritdoc/>
    [Description("Update rule of every parameter tensor: AdamW, Sgd (momentum, optionally Nesterov), Lion, Muon (2-D hidden weights; AdamW for embeddings, heads and 1-D tensors), or Adafactor (factored second moment); --param-group overrides it per tensor. The learning rate is --lr for every rule (Lion usually wants 3–10× less than AdamW).")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    /// <inheritdoc/>
    [Description("SGD momentum μ (0 = plain SGD).")]
    public float Momentum { get; init; } = 0.9f;
    /// <inheritdoc/>
    [Description("Nesterov momentum for SGD.")]
    public bool Nesterov { get; init; }
    /// <inheritdoc/>
    [Description("Lion β1 (the interpolation whose sign is the update; the paper's 0.9).")]
    public float LionBeta1 { get; init; } = 0.9f;
    /// <inheritdoc/>
    [Description("Lion β2 (momentum decay; the paper's 0.99).")]
    public float LionBeta2 { get; init; } = 0.99f;
    /// <inheritdoc/>
    [Description("Muon momentum μ (modded-nanogpt's 0.95; Nesterov).")]
    public float MuonMomentum { get; init; } = 0.95f;
    /// <inheritdoc/>
    [Description("Parameter group \"pattern:key=value,…\" (repeatable): a glob over Hugging Face GPT-2 tensor names (wte, h.*.attn.*, ln_f) with keys lr (multiplier of the rate), weight_decay and optimizer. A pattern matching nothing, or two that overlap, is an error.")]
    public string[] ParamGroup { get; init; } = [];
    /// <inheritdoc/>
    [Description("Clip the global gradient norm to this; 0 turns clipping off.")]
    public float GradClip { get; init; } = 1f;

    /// <summary>Save a resumable checkpoint every this many steps (0 = only at the end).</summary>
    [Description("Save a resumable checkpoint every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int CheckpointEvery { get; init; }
    /// <summary>Record optimizer telemetry every this many optimizer steps (0 = off).</summary>
    [Description("Record optimizer telemetry (per-tensor gradient, parameter and update norms, optimizer-state statistics) every this many optimizer steps into telemetry.jsonl and telemetry-*.svg heatmaps (0 = off).")]
    [Bounds(0, Limits.MaxSteps)]
    public int TelemetryEvery { get; init; }
    /// <summary>Seed of everything random; each stage says what that covers.</summary>
    public ulong Seed { get; init; } = 1337;
    /// <summary>Output folder.</summary>
    [Description("Output folder.")]
    public string OutDir { get; init; }
    /// <summary>CPU threads (0 = all).</summary>
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }
    /// <summary>Backend name (see <see cref="Backends.BackendFactory"/>).</summary>
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    /// <summary>Continue from the latest checkpoint in <see cref="OutDir"/>.</summary>
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }
    /// <summary>Move an earlier run in <see cref="OutDir"/> aside and start fresh.</summary>
    [Description("Start a fresh run in an OutDir that holds an earlier run, after moving that run aside to OUTDIR.replaced-TIMESTAMP (nothing is deleted).")]
    public bool Overwrite { get; init; }

    /// <summary>The learning-rate schedule these settings describe.</summary>
    public LearningRateSchedule LearningRate() => new(Lr, Warmup, Steps, Schedule, MinLrFraction);
}
