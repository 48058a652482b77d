using RlhfCore.Optim;

namespace RlhfCore.Training;

/// <summary>
/// Every setting of a supervised fine-tuning run. CLI flags map onto these one to one, and the
/// resolved record is written as <c>config.json</c> beside the run's outputs.
/// </summary>
public sealed record SftOptions
{
    /// <summary>Training data: a JSONL file (<c>{"text"}</c> or <c>{"prompt","completion"}</c>), a plain .txt, or <c>builtin:arithmetic</c>.</summary>
    public string Data { get; init; } = "builtin:arithmetic";
    /// <summary>Held-out data; when empty, a fraction of the training examples is held out.</summary>
    public string? EvalData { get; init; }
    /// <summary>Fraction of examples held out for evaluation when <see cref="EvalData"/> is empty.</summary>
    public double EvalFraction { get; init; } = 0.05;
    /// <summary>Model preset for a fresh model (ignored when <see cref="InitFrom"/> is set).</summary>
    public string Model { get; init; } = "byte-small";
    /// <summary>Checkpoint to start from (safetensors, HF GPT-2 layout, or llm.c .bin).</summary>
    public string? InitFrom { get; init; }
    /// <summary>Tokenizer: <c>byte</c>, or <c>gpt2</c> with <see cref="TokenizerDir"/> holding vocab.json and merges.txt.</summary>
    public string Tokenizer { get; init; } = "byte";
    /// <summary>Folder of the GPT-2 tokenizer files.</summary>
    public string? TokenizerDir { get; init; }
    /// <summary>Rows per micro-batch.</summary>
    public int Batch { get; init; } = 16;
    /// <summary>Tokens per row.</summary>
    public int SeqLen { get; init; } = 32;
    /// <summary>Optimizer steps.</summary>
    public int Steps { get; init; } = 300;
    /// <summary>Micro-batches per optimizer step.</summary>
    public int GradAccum { get; init; } = 1;
    /// <summary>Peak learning rate.</summary>
    public float Lr { get; init; } = 2e-3f;
    /// <summary>Linear warmup steps.</summary>
    public int Warmup { get; init; } = 20;
    /// <summary>Schedule after warmup.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Cosine;
    /// <summary>Cosine floor as a fraction of the peak rate.</summary>
    public float MinLrFraction { get; init; } = 0.1f;
    /// <summary>AdamW β1.</summary>
    public float Beta1 { get; init; } = 0.9f;
    /// <summary>AdamW β2.</summary>
    public float Beta2 { get; init; } = 0.95f;
    /// <summary>AdamW ε.</summary>
    public float Eps { get; init; } = 1e-8f;
    /// <summary>Decoupled weight decay on 2-D weights.</summary>
    public float WeightDecay { get; init; } = 0.1f;
    /// <summary>Clip the global gradient norm to this; 0 turns clipping off.</summary>
    public float GradClip { get; init; } = 1f;
    /// <summary>Evaluate every this many steps (0 = only at the end).</summary>
    public int EvalEvery { get; init; } = 50;
    /// <summary>Batches per evaluation.</summary>
    public int EvalBatches { get; init; } = 4;
    /// <summary>Save a resumable checkpoint every this many steps (0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Seed of everything random (initialization, shuffling).</summary>
    public ulong Seed { get; init; } = 1337;
    /// <summary>Output folder.</summary>
    public string OutDir { get; init; } = "runs/sft";
    /// <summary>CPU threads (0 = all).</summary>
    public int Threads { get; init; }
    /// <summary>Backend: <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "cpu";
    /// <summary>Continue from the latest checkpoint in <see cref="OutDir"/>.</summary>
    public bool Resume { get; init; }

    /// <summary>Throws naming the field when a value is out of range.</summary>
    public SftOptions Validate()
    {
        if (Batch < 1) throw new ArgumentException($"--batch must be positive, got {Batch}");
        if (SeqLen < 2) throw new ArgumentException($"--seq must be at least 2, got {SeqLen}");
        if (Steps < 1) throw new ArgumentException($"--steps must be positive, got {Steps}");
        if (GradAccum < 1) throw new ArgumentException($"--grad-accum must be positive, got {GradAccum}");
        if (!(Lr > 0)) throw new ArgumentException($"--lr must be positive, got {Lr}");
        if (Warmup < 0) throw new ArgumentException($"--warmup must be ≥ 0, got {Warmup}");
        if (!(GradClip >= 0)) throw new ArgumentException($"--grad-clip must be ≥ 0, got {GradClip}");
        if (EvalFraction is < 0 or >= 1) throw new ArgumentException($"--eval-fraction must be in [0, 1), got {EvalFraction}");
        new AdamWOptions(Beta1, Beta2, Eps, WeightDecay).Validate();
        return this;
    }
}
