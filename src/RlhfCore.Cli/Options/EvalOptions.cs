using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli.Options;

/// <summary>Every setting of <c>rlhf eval</c>; CLI flags map onto these one to one.</summary>
internal sealed record EvalOptions
{
    [Description("Model file (safetensors or llm.c .bin). Required.")]
    public string? Model { get; init; }
    [Description("JSONL, text file, llm.c token shard, or builtin:arithmetic. Required.")]
    public string? Data { get; init; }
    [Description("Tokenizer: byte or gpt2.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder with vocab.json and merges.txt (gpt2 tokenizer).")]
    public string? TokenizerDir { get; init; }
    [Description("Rows per batch.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 8;
    [Description("Tokens per row.")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int Seq { get; init; } = 64;
    [Description("Longest line of a JSONL file, in bytes.")]
    [Bounds(1024, RlhfCore.Data.JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = RlhfCore.Data.JsonlReader.DefaultMaxLineBytes;
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }

    /// <summary>Throws naming the flag when a value is out of range or a required flag is missing.</summary>
    public EvalOptions Validate()
    {
        OptionBounds.Check(this);
        if (string.IsNullOrEmpty(Model)) throw new OptionException("--model", "is required");
        if (string.IsNullOrEmpty(Data)) throw new OptionException("--data", "is required");
        return this;
    }
}
