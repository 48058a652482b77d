using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Sft;

/// <summary>
/// Every setting of a supervised fine-tuning run: <see cref="DatasetTrainerOptions"/>'s shared ones with SFT's
/// defaults, and SFT's own. CLI flags map onto these one to one, and the resolved record is written as
/// <c>config.json</c> beside the run's outputs.
/// </summary>
[OptionDescription(nameof(Data), "Training data: a JSONL file ({\"text\"} or {\"prompt\",\"completion\"}), an llm.c token shard (.bin), a plain .txt, or builtin:arithmetic / builtin:reviews.")]
[OptionDescription(nameof(EvalData), "Held-out data; when empty, a fraction of the training examples is held out.")]
[OptionDescription(nameof(EvalFraction), "Fraction of examples held out for evaluation when EvalData is empty.")]
[OptionDescription(nameof(InitFrom), "Checkpoint to start from (safetensors, HF GPT-2 layout, or llm.c .bin).")]
[OptionDescription(nameof(Batch), "Rows per micro-batch.")]
[OptionDescription(nameof(Seed), "Seed of everything random (initialization, shuffling).")]
public sealed record SftOptions : DatasetTrainerOptions
{
    /// <summary>SFT's defaults.</summary>
    public SftOptions()
        : base(outDir: "runs/sft", steps: 4000, lr: 3e-3f, warmup: 100, weightDecay: 0.1f, checkpointEvery: 1000,
            batch: 32, evalFraction: 0.05, evalEvery: 500)
    {
    }

    /// <summary>Model preset for a fresh model (ignored when InitFrom is set).</summary>
    [Description("Model preset for a fresh model (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-small";
    /// <summary>A {"prompt","completion"} example longer than SeqLen + 1 tokens: Error (naming its line), or Truncate (keep its first SeqLen + 1 tokens, dropping the completion's end and EOS). Packed {"text"} data is always cut into windows.</summary>
    [Description("A {\"prompt\",\"completion\"} example longer than SeqLen + 1 tokens: Error (naming its line), or Truncate (keep its first SeqLen + 1 tokens, dropping the completion's end and EOS). Packed {\"text\"} data is always cut into windows.")]
    public OverlongPolicy Overlong { get; init; } = OverlongPolicy.Error;
    /// <summary>Tokens per row.</summary>
    [Description("Tokens per row.")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 16;
    /// <summary>Batches per evaluation.</summary>
    [Description("Batches per evaluation.")]
    [Bounds(0, Limits.MaxCount)]
    public int EvalBatches { get; init; } = 4;

    /// <summary>Throws an <see cref="OptionException"/> naming the flag when a value is out of its range.</summary>
    public SftOptions Validate() => OptionBounds.Check(this);
}
