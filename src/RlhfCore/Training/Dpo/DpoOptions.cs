using System.ComponentModel;
using RlhfCore.Optim;

namespace RlhfCore.Training.Dpo;

/// <summary>
/// Every setting of a DPO / IPO run. CLI flags map onto these one to one, and the resolved record is written
/// as <c>config.json</c> beside the run's outputs.
/// </summary>
public sealed record DpoOptions : IOptimizerSettings
{
    [Description("Preference pairs: a JSONL file of {\"prompt\",\"chosen\",\"rejected\"}, or builtin:arithmetic (correct vs off-by-1..3 sums).")]
    public string Data { get; init; } = "builtin:arithmetic";
    [Description("Held-out pairs; when empty, a fraction of the training pairs is held out.")]
    public string? EvalData { get; init; }
    [Description("Fraction of pairs held out for evaluation when EvalData is empty.")]
    public double EvalFraction { get; init; } = 0.05;
    [Description("The SFT checkpoint the policy starts from (required).")]
    public string? InitFrom { get; init; }
    [Description("The frozen reference model; when empty, InitFrom (the usual choice).")]
    public string? Reference { get; init; }
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }
    [Description("Loss: Sigmoid (DPO) or Ipo.")]
    public DpoLossKind Loss { get; init; } = DpoLossKind.Sigmoid;
    [Description("β: how strongly the policy is tied to the reference (TRL's beta).")]
    public double Beta { get; init; } = 0.1;
    [Description("Label smoothing ε for conservative DPO (sigmoid loss only): the assumed rate of flipped labels.")]
    public double LabelSmoothing { get; init; }
    [Description("Pairs per micro-batch (each pair is two rows).")]
    public int Batch { get; init; } = 8;
    [Description("Inputs per row: prompt + completion + end-of-text must be at most this plus one tokens.")]
    public int SeqLen { get; init; } = 32;
    [Description("Optimizer steps.")]
    public int Steps { get; init; } = 200;
    [Description("Micro-batches per optimizer step.")]
    public int GradAccum { get; init; } = 1;
    [Description("Peak learning rate.")]
    public float Lr { get; init; } = 1e-4f;
    [Description("Linear warmup steps.")]
    public int Warmup { get; init; } = 10;
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
    public float WeightDecay { get; init; }
    [Description("Clip the global gradient norm to this; 0 turns clipping off.")]
    public float GradClip { get; init; } = 1f;
    [Description("Evaluate every this many steps (0 = only at the end).")]
    public int EvalEvery { get; init; } = 25;
    [Description("Held-out batches per evaluation (0 = all held-out pairs).")]
    public int EvalBatches { get; init; } = 8;
    [Description("Save a resumable checkpoint every this many steps (0 = only at the end).")]
    public int CheckpointEvery { get; init; } = 100;
    [Description("Seed of everything random (built-in data, shuffling).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Output folder.")]
    public string OutDir { get; init; } = "runs/dpo";
    [Description("CPU threads (0 = all).")]
    public int Threads { get; init; }
    [Description("Backend: cpu or cuda.")]
    public string Device { get; init; } = "cpu";
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }
    [Description("Start a fresh run in an OutDir that holds an earlier run, after moving that run aside to OUTDIR.replaced-TIMESTAMP (nothing is deleted).")]
    public bool Overwrite { get; init; }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public DpoOptions Validate()
    {
        if (Batch < 1) throw new ArgumentException($"--batch must be positive, got {Batch}");
        if (SeqLen < 1) throw new ArgumentException($"--seq-len must be positive, got {SeqLen}");
        if (GradAccum < 1) throw new ArgumentException($"--grad-accum must be positive, got {GradAccum}");
        if (EvalBatches < 0) throw new ArgumentException($"--eval-batches must be ≥ 0, got {EvalBatches}");
        if (EvalFraction is < 0 or >= 1) throw new ArgumentException($"--eval-fraction must be in [0, 1), got {EvalFraction}");
        if (!(Beta > 0) || double.IsInfinity(Beta)) throw new ArgumentException($"--beta must be positive, got {Beta}");
        if (LabelSmoothing is < 0 or >= 0.5) throw new ArgumentException($"--label-smoothing must be in [0, 0.5), got {LabelSmoothing}");
        if (LabelSmoothing > 0 && Loss != DpoLossKind.Sigmoid) throw new ArgumentException("--label-smoothing applies to the sigmoid (DPO) loss only");
        this.ValidateOptimizer();
        return this;
    }
}
