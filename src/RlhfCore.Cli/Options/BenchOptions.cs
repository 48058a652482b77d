using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli.Options;

/// <summary>Every setting of <c>rlhf bench</c>; CLI flags map onto these one to one.</summary>
internal sealed record BenchOptions
{
    [Description("Model preset.")]
    public string Config { get; init; } = "gpt2-124m";
    [Description("Rows per step.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 4;
    [Description("Tokens per row.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int Seq { get; init; } = 64;
    [Description("Timed steps.")]
    [Bounds(1, 1e6)]
    public int Steps { get; init; } = 10;
    [Description("Untimed warm-up steps.")]
    [Bounds(0, 1e6)]
    public int Warmup { get; init; } = 2;
    [Description("Record optimizer telemetry every this many timed steps (0 = off), to time what it costs.")]
    [Bounds(0, Limits.MaxSteps)]
    public int TelemetryEvery { get; init; }
    [Description("Time 2 × --steps steps of --config at --batch × --seq with telemetry recorded on every second one, and print the median cost of a recorded step over an unrecorded one (the overhead of --telemetry-every 1).")]
    public bool TelemetryOverhead { get; init; }
    [Description("Instead of timing --config: train --preset on tinyshakespeare with each optimizer (AdamW, SGD, Lion, Muon, Adafactor) at its documented default learning rate, and print final train and eval loss, median ms/step and median optimizer-update ms side by side.")]
    public bool Optimizers { get; init; }
    [Description("Model preset the optimizer comparison trains.")]
    public string Preset { get; init; } = "byte-small";
    [Description("Optimizer steps per optimizer in the comparison.")]
    [Bounds(10, Limits.MaxSteps)]
    public int TrainSteps { get; init; } = 300;
    [Description("Rows per step in the comparison.")]
    [Bounds(1, Limits.MaxBatch)]
    public int TrainBatch { get; init; } = 16;
    [Description("Tokens per row in the comparison.")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int TrainSeq { get; init; } = 64;
    [Description("tinyshakespeare's input.txt for the comparison; empty: shared/data/tinyshakespeare/input.txt in the current folder or a folder above it, or beside the repository (../shared).")]
    public string? Data { get; init; }
    [Description("Seed of the comparison's initialization and batch order (the same for every optimizer).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Also time each kernel (GB/s or TFLOP/s, fraction of the copy bandwidth).")]
    public bool Kernels { get; init; }
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public BenchOptions Validate() => OptionBounds.Check(this);
}
