using System.ComponentModel;

namespace RlhfCore.Training.BestOfN;

/// <summary>Every setting of a best-of-n run; CLI flags map onto these one to one.</summary>
public sealed record BestOfNOptions
{
    [Description("The policy to sample from (safetensors or llm.c .bin).")]
    public string? Policy { get; init; }
    [Description("Reward model (with a reward head) or ensemble folder that scores completions; when empty, the gold reward of builtin:arithmetic prompts.")]
    public string? RewardModel { get; init; }
    [Description("How an ensemble's member scores combine: Mean, Min (worst case) or MeanStd (mean − λ·std).")]
    public Reward.Ensemble.RewardAggregate RewardAggregate { get; init; } = Reward.Ensemble.RewardAggregate.Mean;
    [Description("λ of MeanStd (≥ 0).")]
    public double UncertaintyCoef { get; init; } = 1.0;
    [Description("Prompts: a JSONL file of {\"prompt\"} lines, or builtin:arithmetic.")]
    public string Prompts { get; init; } = "builtin:arithmetic";
    [Description("Prompts generated for builtin:arithmetic.")]
    public int NumPrompts { get; init; } = 200;
    [Description("Samples per prompt; the best-scoring one is kept.")]
    public int N { get; init; } = 4;
    [Description("Tokens to generate per sample.")]
    public int MaxNewTokens { get; init; } = 8;
    [Description("Softmax temperature (0 = greedy, which makes every sample the same).")]
    public float Temperature { get; init; } = 1f;
    [Description("Keep the k most likely tokens (0 = off).")]
    public int TopK { get; init; }
    [Description("Nucleus mass (1 = off).")]
    public float TopP { get; init; } = 1f;
    [Description("Rows generated (and scored) at once.")]
    public int Batch { get; init; } = 64;
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }
    [Description("Write each prompt's best completion as {\"prompt\",\"completion\"} JSONL here (a rejection-sampling set for rlhf sft).")]
    public string? Output { get; init; }
    [Description("Write only prompts whose best score is at least this (when set).")]
    public double? MinScore { get; init; }
    [Description("Seed of the prompts and the sampling.")]
    public ulong Seed { get; init; } = 1;
    [Description("CPU threads (0 = all).")]
    public int Threads { get; init; }
    [Description("Backend: cpu or cuda.")]
    public string Device { get; init; } = "cpu";

    /// <summary>The ensemble aggregation the flags describe.</summary>
    public Reward.Ensemble.RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public BestOfNOptions Validate()
    {
        if (string.IsNullOrEmpty(Policy)) throw new ArgumentException("--policy is required");
        if (N < 1) throw new ArgumentException($"--n must be positive, got {N}");
        if (NumPrompts < 1) throw new ArgumentException($"--num-prompts must be positive, got {NumPrompts}");
        if (Batch < 1) throw new ArgumentException($"--batch must be positive, got {Batch}");
        Aggregation.Validate();
        if (MinScore is double m && !double.IsFinite(m)) throw new ArgumentException($"--min-score must be finite, got {m}");
        new Model.SamplingOptions(MaxNewTokens, Temperature, TopK, TopP).Validate();
        return this;
    }
}
