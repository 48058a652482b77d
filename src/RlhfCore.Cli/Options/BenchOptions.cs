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
