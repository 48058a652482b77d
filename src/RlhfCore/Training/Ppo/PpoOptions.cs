using RlhfCore.Rl;
using System.ComponentModel;
using RlhfCore.Data;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ppo;

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
    /// <summary>REINFORCE++ (Hu et al. 2025): no critic, KL in the reward, returns-to-go whitened over the whole rollout.</summary>
    ReinforcePlusPlus,
}

/// <summary>Where the importance ratio is taken (TRL's importance_sampling_level).</summary>
public enum ImportanceLevel
{
    /// <summary>One ratio per token (PPO).</summary>
    Token,
    /// <summary>One ratio per sequence, exp of the mean token log-ratio (GSPO, Zheng et al. 2025).</summary>
    Sequence,
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
/// Every setting of an RL fine-tuning run (PPO and its siblings): <see cref="TrainerOptions"/>'s shared ones with
/// PPO's defaults, and its own. CLI flags map onto these one to one,
/// and the resolved record is written as <c>config.json</c> beside the run's outputs. Names follow TRL's
/// PPOConfig where one exists.
/// </summary>
[OptionDescription(nameof(InitFrom), "Policy checkpoint to start from (an SFT model); also the reference unless Reference is set.")]
[OptionDescription(nameof(Steps), "Rollout steps (each: sample, score, then optimize).")]
[OptionDescription(nameof(Lr), "Learning rate.")]
[OptionDescription(nameof(Warmup), "Linear warmup, in rollout steps.")]
[OptionDescription(nameof(Schedule), "Schedule after warmup (over rollout steps).")]
[OptionDescription(nameof(CheckpointEvery), "Save a resumable checkpoint every this many rollout steps (0 = only at the end).")]
[OptionDescription(nameof(Seed), "Seed of everything random (sampling, shuffling, fresh heads).")]
public sealed record PpoOptions : TrainerOptions, IPolicyGradientVariants, IReferenceSyncSettings
{
    /// <summary>PPO's defaults: a constant rate over rollout steps.</summary>
    public PpoOptions()
        : base(outDir: "runs/ppo", steps: 100, lr: 1e-4f, warmup: 0, weightDecay: 0f, checkpointEvery: 20) =>
        Schedule = ScheduleKind.Constant;

    /// <summary>Method: Ppo, A2c, Reinforce, Rloo, Grpo or ReinforcePlusPlus.</summary>
    [Description("Method: Ppo, A2c, Reinforce, Rloo, Grpo or ReinforcePlusPlus.")]
    public PolicyGradientMethod Method { get; init; } = PolicyGradientMethod.Ppo;
    /// <summary>Prompts: a JSONL file of {"prompt"}, or builtin:arithmetic.</summary>
    [Description("Prompts: a JSONL file of {\"prompt\"}, or builtin:arithmetic.")]
    public string Prompts { get; init; } = "builtin:arithmetic";
    /// <summary>Number of built-in prompts drawn (builtin:arithmetic).</summary>
    [Description("Number of built-in prompts drawn (builtin:arithmetic).")]
    [Bounds(1, Limits.MaxCount)]
    public int PromptPool { get; init; } = 4096;
    /// <summary>Model preset for a fresh policy (ignored when InitFrom is set).</summary>
    [Description("Model preset for a fresh policy (ignored when InitFrom is set).")]
    public string Model { get; init; } = "byte-small";
    /// <summary>Frozen reference policy; empty means InitFrom (or the fresh policy's initial weights).</summary>
    [Description("Frozen reference policy; empty means InitFrom (or the fresh policy's initial weights).")]
    public string? Reference { get; init; }
    /// <summary>Reward: model (with RewardModel) or gold (the built-in task's gold reward).</summary>
    [Description("Reward: model (with RewardModel) or gold (the built-in task's gold reward).")]
    public string Reward { get; init; } = "model";
    /// <summary>Reward-model checkpoint (a model with a reward head).</summary>
    [Description("Reward-model checkpoint (a model with a reward head).")]
    public string? RewardModel { get; init; }
    /// <summary>How an ensemble's member scores become the reward: Mean, Min (worst case) or MeanStd (mean − λ·std).</summary>
    [Description("How an ensemble's member scores become the reward: Mean, Min (worst case) or MeanStd (mean − λ·std).")]
    public Training.Reward.Ensemble.RewardAggregate RewardAggregate { get; init; } = Training.Reward.Ensemble.RewardAggregate.Mean;
    /// <summary>λ of MeanStd: reward = mean − λ·std over the ensemble's members (≥ 0).</summary>
    [Description("λ of MeanStd: reward = mean − λ·std over the ensemble's members (≥ 0).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double UncertaintyCoef { get; init; } = 1.0;
    /// <summary>Steps over which the reward-hacking monitor tests trends (proxy up while gold down or disagreement up).</summary>
    [Description("Steps over which the reward-hacking monitor tests trends (proxy up while gold down or disagreement up).")]
    [Bounds(3, 100000, Why = "a trend needs a residual")]
    public int HackingWindow { get; init; } = 8;
    /// <summary>Stop the run (saving as at the end) when the reward-hacking monitor warns.</summary>
    [Description("Stop the run (saving as at the end) when the reward-hacking monitor warns.")]
    public bool StopOnHacking { get; init; }
    /// <summary>Value head: Fresh, or RewardModel (copy the reward model's score head).</summary>
    [Description("Value head: Fresh, or RewardModel (copy the reward model's score head).")]
    public ValueHeadInit ValueHead { get; init; } = ValueHeadInit.Fresh;

    /// <summary>Prompts per rollout.</summary>
    [Description("Prompts per rollout.")]
    [Bounds(1, Limits.MaxBatch)]
    public int PromptsPerStep { get; init; } = 16;
    /// <summary>Responses per prompt (0 = the method's default: 1, or 4 for Rloo and Grpo).</summary>
    [Description("Responses per prompt (0 = the method's default: 1, or 4 for Rloo and Grpo).")]
    [Bounds(0, 1024)]
    public int SamplesPerPrompt { get; init; }
    /// <summary>Sequences per minibatch (one optimizer step each); must divide the rollout size.</summary>
    [Description("Sequences per minibatch (one optimizer step each); must divide the rollout size.")]
    [Bounds(1, Limits.MaxBatch)]
    public int MiniBatch { get; init; } = 8;
    /// <summary>Passes over each rollout (Ppo, Rloo, Grpo; A2c and Reinforce make one).</summary>
    [Description("Passes over each rollout (Ppo, Rloo, Grpo; A2c and Reinforce make one).")]
    [Bounds(1, 1000)]
    public int Epochs { get; init; } = 4;
    /// <summary>Maximum response tokens.</summary>
    [Description("Maximum response tokens.")]
    [Bounds(1, Limits.MaxSeqLen)]
    public int MaxNewTokens { get; init; } = 8;
    /// <summary>Sampling temperature (log-probabilities are taken at the same temperature, as TRL).</summary>
    [Description("Sampling temperature (log-probabilities are taken at the same temperature, as TRL).")]
    [Bounds(0, 100, MinExclusive = true)]
    public float Temperature { get; init; } = 1f;
    /// <summary>Stop a response at the tokenizer's end-of-text token.</summary>
    [Description("Stop a response at the tokenizer's end-of-text token.")]
    public bool StopAtEos { get; init; } = true;
    /// <summary>Subtracted from the score of a response that did not end with EOS (TRL's missing_eos_penalty; 0 = off).</summary>
    [Description("Subtracted from the score of a response that did not end with EOS (TRL's missing_eos_penalty; 0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double MissingEosPenalty { get; init; }

    /// <summary>Initial KL coefficient β.</summary>
    [Description("Initial KL coefficient β.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double KlCoef { get; init; } = 0.05;
    /// <summary>Target KL per sequence for the adaptive controller (0 = fixed β).</summary>
    [Description("Target KL per sequence for the adaptive controller (0 = fixed β).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double KlTarget { get; init; }
    /// <summary>Adaptive controller horizon, in sequences.</summary>
    [Description("Adaptive controller horizon, in sequences.")]
    [Bounds(0, 1e12, MinExclusive = true)]
    public double KlHorizon { get; init; } = 10000;
    /// <summary>KL estimator: Auto, K1, K2 or K3.</summary>
    [Description("KL estimator: Auto, K1, K2 or K3.")]
    public KlEstimatorChoice KlEstimator { get; init; } = KlEstimatorChoice.Auto;
    /// <summary>KL penalty in the reward or in the loss: Auto, Reward or Loss.</summary>
    [Description("KL penalty in the reward or in the loss: Auto, Reward or Loss.")]
    public KlPlacement KlPenalty { get; init; } = KlPlacement.Auto;

    /// <summary>Discount γ.</summary>
    [Description("Discount γ.")]
    [Bounds(0, 1)]
    public float Gamma { get; init; } = 1f;
    /// <summary>GAE λ.</summary>
    [Description("GAE λ.")]
    [Bounds(0, 1)]
    public float Lam { get; init; } = 0.95f;
    /// <summary>Whiten advantages over the rollout.</summary>
    [Description("Whiten advantages over the rollout.")]
    public bool WhitenAdvantages { get; init; } = true;
    /// <summary>Whiten per-token rewards (mean kept), as TRL's whiten_rewards.</summary>
    [Description("Whiten per-token rewards (mean kept), as TRL's whiten_rewards.")]
    public bool WhitenRewards { get; init; }
    /// <summary>Clip scores to [−c, c] (0 = off).</summary>
    [Description("Clip scores to [−c, c] (0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double ScoreClip { get; init; }
    /// <summary>Policy ratio clip ε.</summary>
    [Description("Policy ratio clip ε.")]
    [Bounds(0, Limits.MaxThreshold, MinExclusive = true)]
    public float ClipRange { get; init; } = 0.2f;
    /// <inheritdoc/>
    public float? ClipLow { get; init; }
    /// <inheritdoc/>
    public float? ClipHigh { get; init; }
    /// <inheritdoc/>
    public float DualClip { get; init; }
    /// <inheritdoc/>
    public string LossAggregation { get; init; } = "token-mean";
    /// <inheritdoc/>
    public string ScaleRewards { get; init; } = "group";
    /// <inheritdoc/>
    public ImportanceLevel ImportanceLevel { get; init; } = ImportanceLevel.Token;
    /// <inheritdoc/>
    public bool DynamicSampling { get; init; }
    /// <inheritdoc/>
    public int DynamicSamplingTries { get; init; } = 3;
    /// <inheritdoc/>
    public int OverlongBuffer { get; init; }
    /// <inheritdoc/>
    public double OverlongPenaltyFactor { get; init; } = 1.0;
    /// <summary>TR-DPO-style reference updates: every this many rollout steps the reference becomes α·π + (1 − α)·π_ref (0 = frozen).</summary>
    [Description("TR-DPO-style reference updates: every this many rollout steps the reference becomes α·π + (1 − α)·π_ref (0 = frozen).")]
    public int RefSyncEvery { get; init; }
    /// <inheritdoc/>
    public double RefMix { get; init; } = 0.6;
    /// <summary>Value clip range around the rollout's values.</summary>
    [Description("Value clip range around the rollout's values.")]
    [Bounds(0, Limits.MaxThreshold, MinExclusive = true)]
    public float ClipRangeValue { get; init; } = 0.2f;
    /// <summary>Value-loss coefficient.</summary>
    [Description("Value-loss coefficient.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public float VfCoef { get; init; } = 0.1f;
    /// <summary>Entropy bonus coefficient.</summary>
    [Description("Entropy bonus coefficient.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public float EntropyCoef { get; init; }
    /// <summary>Stop a rollout's epochs when a minibatch's approx-KL exceeds this (0 = off).</summary>
    [Description("Stop a rollout's epochs when a minibatch's approx-KL exceeds this (0 = off).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double TargetKl { get; init; }
    /// <summary>REINFORCE baseline: moving-average decay of the mean sequence return.</summary>
    [Description("REINFORCE baseline: moving-average decay of the mean sequence return.")]
    [Bounds(0, 1, MaxExclusive = true)]
    public double BaselineDecay { get; init; } = 0.9;

    /// <summary>The ensemble aggregation the flags describe.</summary>
    public Training.Reward.Ensemble.RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>Sequences per rollout: prompts × samples per prompt.</summary>
    public int RolloutSize => PromptsPerStep * Resolve().SamplesPerPrompt;

    /// <summary>The method's defaults filled in.</summary>
    public ResolvedMethod Resolve()
    {
        bool grpo = Method == PolicyGradientMethod.Grpo;
        bool group = grpo || Method == PolicyGradientMethod.Rloo;
        bool clipFlags = ClipLow != null || ClipHigh != null || DualClip != 0;
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
            UsesValueHead: Method is PolicyGradientMethod.Ppo or PolicyGradientMethod.A2c,
            // Without the clip flags the loss keeps ±ClipRange (and A2C's never-binding clip) exactly as before they existed.
            Clip: clipFlags && Method != PolicyGradientMethod.A2c ? new PolicyClip(ClipLow ?? ClipRange, ClipHigh ?? ClipRange, DualClip) : null,
            Aggregation: LossAggregationWeights.Parse(LossAggregation),
            Scaling: GroupAdvantages.Parse(ScaleRewards),
            SequenceLevel: ImportanceLevel == ImportanceLevel.Sequence);
    }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public PpoOptions Validate()
    {
        // The named choices first: the bounds check reads RolloutSize, which resolves them.
        LossAggregationWeights.Parse(LossAggregation);
        GroupAdvantages.Parse(ScaleRewards);
        OptionBounds.Check(this);
        var r = Resolve();
        if (Method is PolicyGradientMethod.Rloo or PolicyGradientMethod.Grpo && r.SamplesPerPrompt < 2)
            throw new ArgumentException($"--method {Method} compares samples of the same prompt: --samples-per-prompt must be at least 2, got {r.SamplesPerPrompt}");
        r.Clip?.Validate();
        if (r.Scaling != RewardScaling.Group && Method != PolicyGradientMethod.Grpo)
            throw new ArgumentException($"--scale-rewards {ScaleRewards} scales GRPO's group advantages: it needs --method Grpo, got {Method}");
        if (r.SequenceLevel)
        {
            if (Method is not (PolicyGradientMethod.Rloo or PolicyGradientMethod.Grpo))
                throw new ArgumentException($"--importance-level sequence (GSPO) needs one advantage per sequence: --method Rloo or Grpo, got {Method}");
            if (DualClip != 0) throw new ArgumentException("--dual-clip is token-level: use --dual-clip 0 with --importance-level sequence");
            if (EntropyCoef != 0) throw new ArgumentException("--importance-level sequence has no entropy bonus: use --entropy-coef 0");
        }
        if (Method == PolicyGradientMethod.ReinforcePlusPlus && KlPenalty == KlPlacement.Loss)
            throw new ArgumentException("--method ReinforcePlusPlus puts the KL penalty in the reward: use --kl-penalty Auto or Reward");
        if (DynamicSampling && Method is not (PolicyGradientMethod.Rloo or PolicyGradientMethod.Grpo))
            throw new ArgumentException($"--dynamic-sampling drops prompt groups whose samples scored alike: it needs --method Rloo or Grpo, got {Method}");
        if (OverlongBuffer > MaxNewTokens)
            throw new ArgumentException($"--overlong-buffer {OverlongBuffer} is longer than --max-new-tokens {MaxNewTokens}: the soft band lies inside the generation limit");
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
/// <param name="Clip">The clips of --clip-low, --clip-high and --dual-clip; null when none is set (±ClipRange).</param>
/// <param name="Aggregation">The loss aggregation.</param>
/// <param name="Scaling">GRPO's advantage scaling.</param>
/// <param name="SequenceLevel">GSPO's sequence-level ratio.</param>
public sealed record ResolvedMethod(int SamplesPerPrompt, int Epochs, float ClipRange, float ClipRangeValue, bool KlInLoss,
    KlEstimator Estimator, bool UsesValueHead, PolicyClip? Clip, LossAggregation Aggregation, RewardScaling Scaling, bool SequenceLevel);
