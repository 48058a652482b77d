using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.BestOfN;

/// <summary>Every setting of a best-of-n run; CLI flags map onto these one to one.</summary>
public sealed record BestOfNOptions
{
    /// <summary>The policy to sample from (safetensors or llm.c .bin).</summary>
    [Description("The policy to sample from (safetensors or llm.c .bin).")]
    public string? Policy { get; init; }
    /// <summary>Reward model (with a reward head) or ensemble folder that scores completions; when empty, the gold reward of builtin:arithmetic prompts.</summary>
    [Description("Reward model (with a reward head) or ensemble folder that scores completions; when empty, the gold reward of builtin:arithmetic prompts.")]
    public string? RewardModel { get; init; }
    /// <summary>How an ensemble's member scores combine: Mean, Min (worst case) or MeanStd (mean − λ·std).</summary>
    [Description("How an ensemble's member scores combine: Mean, Min (worst case) or MeanStd (mean − λ·std).")]
    public Reward.Ensemble.RewardAggregate RewardAggregate { get; init; } = Reward.Ensemble.RewardAggregate.Mean;
    /// <summary>λ of MeanStd (≥ 0).</summary>
    [Description("λ of MeanStd (≥ 0).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double UncertaintyCoef { get; init; } = 1.0;
    /// <summary>Prompts: a JSONL file of {"prompt"} lines, or builtin:arithmetic.</summary>
    [Description("Prompts: a JSONL file of {\"prompt\"} lines, or builtin:arithmetic.")]
    public string Prompts { get; init; } = "builtin:arithmetic";
    /// <summary>Longest line of a JSONL file, in bytes; a longer line is an error naming it.</summary>
    [Description("Longest line of a JSONL file, in bytes; a longer line is an error naming it.")]
    [Bounds(1024, JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = JsonlReader.DefaultMaxLineBytes;
    /// <summary>Prompts generated for builtin:arithmetic.</summary>
    [Description("Prompts generated for builtin:arithmetic.")]
    [Bounds(1, Limits.MaxCount)]
    public int NumPrompts { get; init; } = 200;
    /// <summary>Samples per prompt; the best-scoring one is kept.</summary>
    [Description("Samples per prompt; the best-scoring one is kept.")]
    [Bounds(1, Limits.MaxBatch)]
    public int N { get; init; } = 4;
    /// <summary>Tokens to generate per sample.</summary>
    [Description("Tokens to generate per sample.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int MaxNewTokens { get; init; } = 8;
    /// <summary>Softmax temperature (0 = greedy, which makes every sample the same).</summary>
    [Description("Softmax temperature (0 = greedy, which makes every sample the same).")]
    [Bounds(0, 100)]
    public float Temperature { get; init; } = 1f;
    /// <summary>Keep the k most likely tokens (0 = off).</summary>
    [Description("Keep the k most likely tokens (0 = off).")]
    [Bounds(0, Limits.MaxCount)]
    public int TopK { get; init; }
    /// <summary>Nucleus mass (1 = off).</summary>
    [Description("Nucleus mass (1 = off).")]
    [Bounds(0, 1, MinExclusive = true)]
    public float TopP { get; init; } = 1f;
    /// <summary>Rows generated (and scored) at once.</summary>
    [Description("Rows generated (and scored) at once.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 64;
    /// <summary>Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.</summary>
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    /// <summary>Folder of the GPT-2 tokenizer files.</summary>
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }
    /// <summary>Write each prompt's best completion as {"prompt","completion"} JSONL here (a rejection-sampling set for rlhf sft).</summary>
    [Description("Write each prompt's best completion as {\"prompt\",\"completion\"} JSONL here (a rejection-sampling set for rlhf sft).")]
    public string? Output { get; init; }
    /// <summary>Write only prompts whose best score is at least this (when set).</summary>
    [Description("Write only prompts whose best score is at least this (when set).")]
    [Bounds(-Limits.MaxThreshold, Limits.MaxThreshold)]
    public double? MinScore { get; init; }
    /// <summary>Seed of the prompts and the sampling.</summary>
    [Description("Seed of the prompts and the sampling.")]
    public ulong Seed { get; init; } = 1;
    /// <summary>CPU threads (0 = all).</summary>
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }
    /// <summary>Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).</summary>
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";

    /// <summary>The ensemble aggregation the flags describe.</summary>
    public Reward.Ensemble.RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public BestOfNOptions Validate()
    {
        OptionBounds.Check(this);
        if (string.IsNullOrEmpty(Policy)) throw new ArgumentException("--policy is required");
        Aggregation.Validate();
        if (MinScore is double m && !double.IsFinite(m)) throw new ArgumentException($"--min-score must be finite, got {m}");
        return this;
    }
}
