using System.ComponentModel;
using RlhfCore.Data.Tasks;
using RlhfCore.Training.Core;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Overopt;

/// <summary>Every setting of <c>rlhf overopt</c>, the over-optimization study; CLI flags map one to one.</summary>
public sealed record OveroptOptions
{
    /// <summary>The policy to sample from (e.g. a pipeline's sft/model.safetensors).</summary>
    [Description("The policy to sample from (e.g. a pipeline's sft/model.safetensors).")]
    public string? Policy { get; init; }
    /// <summary>The proxy: a reward model file, or an ensemble folder (rlhf reward --ensemble K).</summary>
    [Description("The proxy: a reward model file, or an ensemble folder (rlhf reward --ensemble K).")]
    public string? RewardModel { get; init; }
    /// <summary>Built-in task whose prompts are sampled and whose gold reward is the truth: arithmetic or reviews.</summary>
    [Description("Built-in task whose prompts are sampled and whose gold reward is the truth: arithmetic or reviews.")]
    public string Task { get; init; } = "arithmetic";
    /// <summary>Arithmetic operands are drawn from [0, max-operand): the demo's 10 by default, so a demo's policy is studied on its own prompts.</summary>
    [Description("Arithmetic operands are drawn from [0, max-operand): the demo's 10 by default, so a demo's policy is studied on its own prompts.")]
    [Bounds(1, 1e6)]
    public int MaxOperand { get; init; } = 10;
    /// <summary>Prompts sampled.</summary>
    [Description("Prompts sampled.")]
    [Bounds(1, Limits.MaxCount)]
    public int NumPrompts { get; init; } = 200;
    /// <summary>Largest n of best-of-n (rounded down to a power of 2); n = 1, 2, 4, …, N.</summary>
    [Description("Largest n of best-of-n (rounded down to a power of 2); n = 1, 2, 4, …, N.")]
    [Bounds(2, Limits.MaxBatch, Why = "best-of-1 alone has no KL to fit")]
    public int MaxN { get; init; } = 64;
    /// <summary>Tokens to generate per sample (0 = the task's longest answer + EOS).</summary>
    [Description("Tokens to generate per sample (0 = the task's longest answer + EOS).")]
    [Bounds(0, Limits.MaxSeqLen)]
    public int MaxNewTokens { get; init; }
    /// <summary>Sampling temperature.</summary>
    [Description("Sampling temperature.")]
    [Bounds(0, 100, MinExclusive = true)]
    public float Temperature { get; init; } = 1f;
    /// <summary>Rows generated (and scored) at once.</summary>
    [Description("Rows generated (and scored) at once.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 64;
    /// <summary>How ensemble members' scores combine into the proxy: Mean, Min or MeanStd.</summary>
    [Description("How ensemble members' scores combine into the proxy: Mean, Min or MeanStd.")]
    public RewardAggregate RewardAggregate { get; init; } = RewardAggregate.Mean;
    /// <summary>λ of MeanStd: proxy = mean − λ·std over members (≥ 0).</summary>
    [Description("λ of MeanStd: proxy = mean − λ·std over members (≥ 0).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double UncertaintyCoef { get; init; } = 1.0;
    /// <summary>RL runs' logged points to fit as well: comma-separated curve.csv files of rlhf pipeline (round, step, kl, reward_model_score, gold_score).</summary>
    [Description("RL runs' logged points to fit as well: comma-separated curve.csv files of rlhf pipeline (round, step, kl, reward_model_score, gold_score).")]
    public string RlCurves { get; init; } = "";
    /// <summary>Output folder: overopt.json (fits), overopt.csv (points), overopt.svg.</summary>
    [Description("Output folder: overopt.json (fits), overopt.csv (points), overopt.svg.")]
    public string OutDir { get; init; } = "runs/overopt";
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

    /// <summary>The gold task the flags describe (arithmetic with <see cref="MaxOperand"/>).</summary>
    public IGoldTask GoldTask() => GoldTasks.Create(Task, new ArithmeticTask(MaxOperand));

    /// <summary>The aggregation the flags describe.</summary>
    public RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>The n values studied: 1, 2, 4, … up to <see cref="MaxN"/>.</summary>
    public IReadOnlyList<int> Ns()
    {
        var ns = new List<int>();
        for (int n = 1; n <= MaxN; n *= 2) ns.Add(n);
        return ns;
    }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public OveroptOptions Validate()
    {
        OptionBounds.Check(this);
        if (string.IsNullOrEmpty(Policy)) throw new ArgumentException("--policy is required");
        if (string.IsNullOrEmpty(RewardModel)) throw new ArgumentException("--reward-model is required (a model file or an ensemble folder)");
        Aggregation.Validate();
        return this;
    }
}
