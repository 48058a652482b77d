using System.ComponentModel;

namespace RlhfCore.Training.Core;

/// <summary>
/// The settings of the trainers that step through a fixed dataset in micro-batches (SFT, reward model, DPO),
/// beside <see cref="TrainerOptions"/>'s: the data and its held-out part, the micro-batch, accumulation and
/// the evaluation cadence. PPO samples its own data and has none of these.
/// </summary>
public abstract record DatasetTrainerOptions : TrainerOptions
{
    /// <summary>The shared settings with the stage's own defaults.</summary>
    protected DatasetTrainerOptions(string outDir, int steps, float lr, int warmup, float weightDecay, int checkpointEvery,
        int batch, double evalFraction, int evalEvery)
        : base(outDir, steps, lr, warmup, weightDecay, checkpointEvery)
    {
        Batch = batch;
        EvalFraction = evalFraction;
        EvalEvery = evalEvery;
    }

    /// <summary>Training data (a file or a built-in task); each stage says which formats it reads.</summary>
    public string Data { get; init; } = "builtin:arithmetic";
    /// <summary>Held-out data; when empty, <see cref="EvalFraction"/> of the training data is held out.</summary>
    public string? EvalData { get; init; }
    /// <summary>Fraction held out for evaluation when <see cref="EvalData"/> is empty.</summary>
    [Bounds(0, 1, MaxExclusive = true)]
    public double EvalFraction { get; init; }
    /// <summary>Records per micro-batch; each stage says what one record is.</summary>
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; }
    /// <summary>Micro-batches per optimizer step.</summary>
    [Description("Micro-batches per optimizer step.")]
    [Bounds(1, Limits.MaxGradAccum)]
    public int GradAccum { get; init; } = 1;
    /// <summary>Evaluate every this many steps (0 = only at the end).</summary>
    [Description("Evaluate every this many steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int EvalEvery { get; init; }
}
