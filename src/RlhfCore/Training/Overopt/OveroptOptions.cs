using System.ComponentModel;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Overopt;

/// <summary>Every setting of <c>rlhf overopt</c>, the over-optimization study; CLI flags map one to one.</summary>
public sealed record OveroptOptions
{
    [Description("The policy to sample from (e.g. a pipeline's sft/model.safetensors).")]
    public string? Policy { get; init; }
    [Description("The proxy: a reward model file, or an ensemble folder (rlhf reward --ensemble K).")]
    public string? RewardModel { get; init; }
    [Description("Built-in task whose prompts are sampled and whose gold reward is the truth: arithmetic or reviews.")]
    public string Task { get; init; } = "arithmetic";
    [Description("Prompts sampled.")]
    public int NumPrompts { get; init; } = 200;
    [Description("Largest n of best-of-n (rounded down to a power of 2); n = 1, 2, 4, …, N.")]
    public int MaxN { get; init; } = 64;
    [Description("Tokens to generate per sample (0 = the task's longest answer + EOS).")]
    public int MaxNewTokens { get; init; }
    [Description("Sampling temperature.")]
    public float Temperature { get; init; } = 1f;
    [Description("Rows generated (and scored) at once.")]
    public int Batch { get; init; } = 64;
    [Description("How ensemble members' scores combine into the proxy: Mean, Min or MeanStd.")]
    public RewardAggregate RewardAggregate { get; init; } = RewardAggregate.Mean;
    [Description("λ of MeanStd: proxy = mean − λ·std over members (≥ 0).")]
    public double UncertaintyCoef { get; init; } = 1.0;
    [Description("RL runs' logged points to fit as well: comma-separated curve.csv files of rlhf pipeline (round, step, kl, reward_model_score, gold_score).")]
    public string RlCurves { get; init; } = "";
    [Description("Output folder: overopt.json (fits), overopt.csv (points), overopt.svg.")]
    public string OutDir { get; init; } = "runs/overopt";
    [Description("Seed of the prompts and the sampling.")]
    public ulong Seed { get; init; } = 1;
    [Description("CPU threads (0 = all).")]
    public int Threads { get; init; }
    [Description("Backend: cpu or cuda.")]
    public string Device { get; init; } = "cpu";

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
        if (string.IsNullOrEmpty(Policy)) throw new ArgumentException("--policy is required");
        if (string.IsNullOrEmpty(RewardModel)) throw new ArgumentException("--reward-model is required (a model file or an ensemble folder)");
        if (NumPrompts < 1) throw new ArgumentException($"--num-prompts must be positive, got {NumPrompts}");
        if (MaxN < 2) throw new ArgumentException($"--max-n must be at least 2 (best-of-1 alone has no KL to fit), got {MaxN}");
        if (MaxNewTokens < 0) throw new ArgumentException($"--max-new-tokens must be ≥ 0, got {MaxNewTokens}");
        if (Batch < 1) throw new ArgumentException($"--batch must be positive, got {Batch}");
        if (!(Temperature > 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"--temperature must be positive, got {Temperature}");
        Aggregation.Validate();
        return this;
    }
}
