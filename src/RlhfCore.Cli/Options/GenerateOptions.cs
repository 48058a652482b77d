using System.ComponentModel;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli.Options;

/// <summary>Every setting of <c>rlhf generate</c>; CLI flags map onto these one to one.</summary>
internal sealed record GenerateOptions
{
    [Description("Model file (safetensors or llm.c .bin). Required.")]
    public string? Model { get; init; }
    [Description("Tokenizer: byte or gpt2.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder with vocab.json and merges.txt (gpt2 tokenizer).")]
    public string? TokenizerDir { get; init; }
    [Description("A prompt (repeat for a batch); empty starts from the EOS token.")]
    public string[] Prompt { get; init; } = [""];
    [Description("Tokens to generate per prompt.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int MaxNewTokens { get; init; } = 64;
    [Description("Softmax temperature (0 = greedy).")]
    [Bounds(0, 100)]
    public float Temperature { get; init; } = 1f;
    [Description("Keep the k most likely tokens (0 = off).")]
    [Bounds(0, Limits.MaxCount)]
    public int TopK { get; init; }
    [Description("Nucleus mass (1 = off).")]
    [Bounds(0, 1, MinExclusive = true)]
    public float TopP { get; init; } = 1f;
    [Description("Samples per prompt.")]
    [Bounds(1, Limits.MaxBatch)]
    public int NumSamples { get; init; } = 1;
    [Description("Do not stop at the end-of-text token.")]
    public bool IgnoreEos { get; init; }
    [Description("Random seed.")]
    public ulong Seed { get; init; } = 1;
    [Description("ILQL heads file (ilql_heads.safetensors, written by rlhf ilql beside the policy): decode from logits + β·(min target Q − V) instead of the logits.")]
    public string? IlqlHeads { get; init; }
    [Description("β of ILQL decoding, the weight of the advantage min target Q − V (trlx's generation beta, 1); 0 is plain decoding. Needs --ilql-heads.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double IlqlBeta { get; init; } = 1;
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }

    /// <summary>Throws naming the flag when a value is out of range or the model is missing.</summary>
    public GenerateOptions Validate()
    {
        OptionBounds.Check(this);
        if (string.IsNullOrEmpty(Model)) throw new OptionException("--model", "is required");
        if ((long)Prompt.Length * NumSamples > (long)Limits.MaxBatch)
            throw new OptionException("--num-samples", $"{Prompt.Length} prompts × {NumSamples} samples is {(long)Prompt.Length * NumSamples} rows, above the maximum {Limits.MaxBatch}");
        return this;
    }
}
