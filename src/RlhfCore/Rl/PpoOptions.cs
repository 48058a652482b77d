using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Rl;

/// <summary>The policy-gradient methods of <see cref="PpoTrainer"/>; they share rollouts and the loss kernel.</summary>
public enum PolicyGradientMethod
{
    /// <summary>PPO with a value head, GAE and the clipped surrogate (InstructGPT, Ziegler et al.).</summary>
    Ppo,
    /// <summary>Advantage actor-critic: GAE with the value head, no clipping, one pass per rollout.</summary>
    A2c,
    /// <summary>REINFORCE: Monte-Carlo returns minus a moving-average baseline, one pass per rollout.</summary>
    Reinforce,
    /// <summary>REINFORCE leave-one-out: k samples per prompt, each baselined by the mean of the other k − 1.</summary>
    Rloo,
    /// <summary>GRPO: k samples per prompt, advantages normalized within the group, KL as a loss term (k3).</summary>
    Grpo,
}

/// <summary>Where the KL penalty to the reference enters.</summary>
public enum KlPlacement
{
    /// <summary>The method's default: the reward for all but GRPO, the loss for GRPO.</summary>
    Auto,
    /// <summary>−β·KL_t added to every token's reward (InstructGPT).</summary>
    Reward,
    /// <summary>β·KL_t added to the loss, differentiated through the policy (GRPO).</summary>
    Loss,
}

/// <summary>Which KL estimator, or the method's default (k1 in the reward, k3 for GRPO).</summary>
public enum KlEstimatorChoice
{
    /// <summary>k1 for all but GRPO, k3 for GRPO.</summary>
    Auto,
    /// <summary>logp − refLogp.</summary>
    K1,
    /// <summary>½ (logp − refLogp)².</summary>
    K2,
    /// <summary>(r − 1) − log r.</summary>
    K3,
}

/// <summary>Where the value head's weights come from.</summary>
public enum ValueHeadInit
{
    /// <summary>The policy file's value head when it has one, else fresh N(0, 0.02) weights.</summary>
    Fresh,
    /// <summary>The reward model's score head (same width; its trunk is not copied: policy and value share one trunk).</summary>
    RewardModel,
}

/// <summary>
/// Every setting of an RL fine-tuning run (PPO and its siblings). CLI flags map onto these one to one,
/// and the resolved record is written as <c>config.json</c> beside the run's outputs. Names follow TRL's
/// PPOConfig where one exists.
/// </summary>
public sealed record PpoOptions : IOptimizerSettings
{
    [Description("Method: Ppo, A2c, Reinforce, Rloo or Grpo.")]
    public PolicyGradientMethod Method { get; init; } = PolicyGradientMethod.Ppo;
    [Description("Prompts: a JSONL file of {\"prompt\"}, or builtin:arithmetic.")]
    public string Prompts { get; init; } = "builtin:arithmetic";
    [Description("Longest line of a JSONL file, in bytes; a longer line is an error naming it.")]
    [Bounds(1024, JsonlReader.MaxLineBytesLimit)]
    public int MaxLineBytes { get; init; } = JsonlReader.DefaultMaxLineBytes;
    [Description("Number of built-in prompts drawn (builtin:arithmetic).")]
    [Bounds(1, Limits.MaxCount)]
    public int PromptPool { get; init; } = 4096;
    [Description("Policy checkpoint to start from (an SFT model); also the reference unless Reference is set.")]
    public string? InitFrom { get; init; }
    [Description("Model preset for a fresh policy (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-small";
    [Description("Frozen reference policy; empty means InitFrom (or the fresh policy's initial weights).")]
    public string? Reference { get; init; }
    [Description("Reward: model (with RewardModel) or gold (the built-in task's gold reward).")]
    public string Reward { get; init; } = "model";
    [Description("Reward-model checkpoint (a model with a reward head).")]
    public string? RewardModel { get; init; }
    [Description("How an ensemble's member scores become the reward: Mean, Min (worst case) or MeanStd (mean − λ·std).")]
    public Training.Reward.Ensemble.RewardAggregate RewardAggregate { get; init; } = Training.Reward.Ensemble.RewardAggregate.Mean;
    [Description("λ of MeanStd: reward = mean − λ·std over the ensemble's members (≥ 0).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double UncertaintyCoef { get; init; } = 1.0;
    [Description("Steps over which the reward-hacking monitor tests trends (proxy up while gold down or disagreement up).")]
    [Bounds(3, 100000, Why = "a trend needs a residual")]
    public int HackingWindow { get; init; } = 8;
    [Description("Stop the run (saving as at the end) when the reward-hacking monitor warns.")]
    public bool StopOnHacking { get; init; }
    [Description("Value head: Fresh, or RewardModel (copy the reward model's score head).")]
    public ValueHeadInit ValueHead { get; init; } = ValueHeadInit.Fresh;
    [Description("Tokenizer: byte, or gpt2 with TokenizerDir holding vocab.json and merges.txt.")]
    public string Tokenizer { get; init; } = "byte";
    [Description("Folder of the GPT-2 tokenizer files.")]
    public string? TokenizerDir { get; init; }

    [Description("Rollout steps (each: sample, score, then optimize).")]
    public int Steps { get; init; } = 100;
    [Description("Prompts per rollout.")]
    [Bounds(1, Limits.MaxBatch)]
    public int PromptsPerStep { get; init; } = 16;
    [Description("Responses per prompt (0 = the method's default: 1, or 4 for Rloo and Grpo).")]
    [Bounds(0, 1024)]
    public int SamplesPerPrompt { get; init; }
    [Description("Sequences per minibatch (one optimizer step each); must divide the rollout size.")]
    [Bounds(1, Limits.MaxBatch)]
    public int MiniBatch { get; init; } = 8;
    [Description("Passes over each rollout (Ppo, Rloo, Grpo; A2c and Reinforce make one).")]
    [Bounds(1, 1000)]
    public int Epochs { get; init; } = 4;
    [Description("Maximum response tokens.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int MaxNewTokens { get; init; } = 8;
    [Description("Sampling temperature (log-probabilities are taken at the same temperature, as TRL).")]
    [Bounds(0, 100, MinExclusive = true)]
    public float Temperature { get; init; } = 1f;
    [Description("Stop a response at the tokenizer's end-of-text token.")]
    public bool StopAtEos { get; init; } = true;
    [Description("Subtracted from the score of a response that did not end with EOS (TRL's missing_eos_penalty; 0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double MissingEosPenalty { get; init; }

    [Description("Initial KL coefficient β.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double KlCoef { get; init; } = 0.05;
    [Description("Target KL per sequence for the adaptive controller (0 = fixed β).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double KlTarget { get; init; }
    [Description("Adaptive controller horizon, in sequences.")]
    [Bounds(0, 1e12, MinExclusive = true)]
    public double KlHorizon { get; init; } = 10000;
    [Description("KL estimator: Auto, K1, K2 or K3.")]
    public KlEstimatorChoice KlEstimator { get; init; } = KlEstimatorChoice.Auto;
    [Description("KL penalty in the reward or in the loss: Auto, Reward or Loss.")]
    public KlPlacement KlPenalty { get; init; } = KlPlacement.Auto;

    [Description("Discount γ.")]
    [Bounds(0, 1)]
    public float Gamma { get; init; } = 1f;
    [Description("GAE λ.")]
    [Bounds(0, 1)]
    public float Lam { get; init; } = 0.95f;
    [Description("Whiten advantages over the rollout.")]
    public bool WhitenAdvantages { get; init; } = true;
    [Description("Whiten per-token rewards (mean kept), as TRL's whiten_rewards.")]
    public bool WhitenRewards { get; init; }
    [Description("Clip scores to [−c, c] (0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double ScoreClip { get; init; }
    [Description("Policy ratio clip ε.")]
    [Bounds(0, Limits.MaxThreshold, MinExclusive = true)]
    public float ClipRange { get; init; } = 0.2f;
    [Description("Value clip range around the rollout's values.")]
    [Bounds(0, Limits.MaxThreshold, MinExclusive = true)]
    public float ClipRangeValue { get; init; } = 0.2f;
    [Description("Value-loss coefficient.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public float VfCoef { get; init; } = 0.1f;
    [Description("Entropy bonus coefficient.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public float EntropyCoef { get; init; }
    [Description("Stop a rollout's epochs when a minibatch's approx-KL exceeds this (0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double TargetKl { get; init; }
    [Description("REINFORCE baseline: moving-average decay of the mean sequence return.")]
    [Bounds(0, 1, MaxExclusive = true)]
    public double BaselineDecay { get; init; } = 0.9;

    [Description("Learning rate.")]
    public float Lr { get; init; } = 1e-4f;
    [Description("Linear warmup, in rollout steps.")]
    public int Warmup { get; init; }
    [Description("Schedule after warmup (over rollout steps).")]
    public ScheduleKind Schedule { get; init; } = ScheduleKind.Constant;
    [Description("AdamW β1.")]
    public float Beta1 { get; init; } = 0.9f;
    [Description("AdamW β2.")]
    public float Beta2 { get; init; } = 0.95f;
    [Description("AdamW ε.")]
    public float Eps { get; init; } = 1e-8f;
    [Description("Decoupled weight decay on 2-D weights.")]
    public float WeightDecay { get; init; }
    [Description("Update rule of every parameter tensor: AdamW, Sgd (momentum, optionally Nesterov), Lion, or Muon (2-D hidden weights; AdamW for embeddings, heads and 1-D tensors); --param-group overrides it per tensor. The learning rate is --lr for every rule (Lion usually wants 3–10× less than AdamW).")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    [Description("SGD momentum μ (0 = plain SGD).")]
    public float Momentum { get; init; } = 0.9f;
    [Description("Nesterov momentum for SGD.")]
    public bool Nesterov { get; init; }
    [Description("Lion β1 (the interpolation whose sign is the update; the paper's 0.9).")]
    public float LionBeta1 { get; init; } = 0.9f;
    [Description("Lion β2 (momentum decay; the paper's 0.99).")]
    public float LionBeta2 { get; init; } = 0.99f;
    [Description("Muon momentum μ (modded-nanogpt's 0.95; Nesterov).")]
    public float MuonMomentum { get; init; } = 0.95f;
    [Description("Parameter group \"pattern:key=value,…\" (repeatable): a glob over Hugging Face GPT-2 tensor names (wte, h.*.attn.*, ln_f) with keys lr (multiplier of the rate), weight_decay and optimizer. A pattern matching nothing, or two that overlap, is an error.")]
    public string[] ParamGroup { get; init; } = [];
    [Description("Clip the global gradient norm to this; 0 turns clipping off.")]
    public float GradClip { get; init; } = 1f;

    [Description("Save a resumable checkpoint every this many rollout steps (0 = only at the end).")]
    [Bounds(0, Limits.MaxSteps)]
    public int CheckpointEvery { get; init; } = 20;
    [Description("Seed of everything random (sampling, shuffling, fresh heads).")]
    public ulong Seed { get; init; } = 1337;
    [Description("Output folder.")]
    public string OutDir { get; init; } = "runs/ppo";
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    [Description("Continue from the latest checkpoint in OutDir.")]
    public bool Resume { get; init; }
    [Description("Start a fresh run in an OutDir that holds an earlier run, after moving that run aside to OUTDIR.replaced-TIMESTAMP (nothing is deleted).")]
    public bool Overwrite { get; init; }

    /// <summary>The ensemble aggregation the flags describe.</summary>
    public Training.Reward.Ensemble.RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>Sequences per rollout: prompts × samples per prompt.</summary>
    public int RolloutSize => PromptsPerStep * Resolve().SamplesPerPrompt;

    /// <summary>The method's defaults filled in.</summary>
    public ResolvedMethod Resolve()
    {
        bool grpo = Method == PolicyGradientMethod.Grpo;
        bool group = grpo || Method == PolicyGradientMethod.Rloo;
        bool onePass = Method is PolicyGradientMethod.A2c or PolicyGradientMethod.Reinforce;
        // A2C: a clip range so large the clamp never binds leaves the plain policy gradient.
        const float never = 1e30f;
        return new ResolvedMethod(
            SamplesPerPrompt: SamplesPerPrompt > 0 ? SamplesPerPrompt : group ? 4 : 1,
            Epochs: onePass ? 1 : Epochs,
            ClipRange: Method == PolicyGradientMethod.A2c ? never : ClipRange,
            ClipRangeValue: Method == PolicyGradientMethod.A2c ? never : ClipRangeValue,
            KlInLoss: KlPenalty == KlPlacement.Loss || (KlPenalty == KlPlacement.Auto && grpo),
            Estimator: KlEstimator switch
            {
                KlEstimatorChoice.K1 => Rl.KlEstimator.K1,
                KlEstimatorChoice.K2 => Rl.KlEstimator.K2,
                KlEstimatorChoice.K3 => Rl.KlEstimator.K3,
                _ => grpo ? Rl.KlEstimator.K3 : Rl.KlEstimator.K1,
            },
            UsesValueHead: Method is PolicyGradientMethod.Ppo or PolicyGradientMethod.A2c);
    }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public PpoOptions Validate()
    {
        OptionBounds.Check(this);
        var r = Resolve();
        if (Method is PolicyGradientMethod.Rloo or PolicyGradientMethod.Grpo && r.SamplesPerPrompt < 2)
            throw new ArgumentException($"--method {Method} compares samples of the same prompt: --samples-per-prompt must be at least 2, got {r.SamplesPerPrompt}");
        if (RolloutSize % MiniBatch != 0)
            throw new ArgumentException($"--mini-batch ({MiniBatch}) must divide the rollout of {RolloutSize} sequences (prompts-per-step × samples-per-prompt)");
        Aggregation.Validate();
        if (Reward is not ("model" or "gold")) throw new ArgumentException($"--reward must be model or gold, got '{Reward}'");
        return this;
    }
}

/// <summary>The settings a method fixes, after <see cref="PpoOptions.Resolve"/>.</summary>
/// <param name="SamplesPerPrompt">Responses per prompt.</param>
/// <param name="Epochs">Passes over each rollout.</param>
/// <param name="ClipRange">Policy ratio clip (huge for A2C: never binds).</param>
/// <param name="ClipRangeValue">Value clip (huge for A2C).</param>
/// <param name="KlInLoss">KL as a loss term rather than in the reward.</param>
/// <param name="Estimator">KL estimator.</param>
/// <param name="UsesValueHead">Whether a value head is trained (PPO, A2C).</param>
public sealed record ResolvedMethod(int SamplesPerPrompt, int Epochs, float ClipRange, float ClipRangeValue, bool KlInLoss,
    KlEstimator Estimator, bool UsesValueHead);
