using System.ComponentModel;
using RlhfCore.Rl;
using RlhfCore.Training.Core;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Training.Pipeline;

/// <summary>Where a round's preferences come from.</summary>
public enum LabelSource
{
    /// <summary>The simulated annotator: Bradley–Terry sampling on the task's gold reward.</summary>
    Simulated,
    /// <summary>People, through <c>rlhf label</c> on the round's comparisons.jsonl.</summary>
    Human,
}

/// <summary>Where each round's reward model starts.</summary>
public enum RewardInit
{
    /// <summary>The SFT policy's trunk with a fresh reward head (InstructGPT's choice).</summary>
    Sft,
    /// <summary>Fresh weights: the policy's architecture, or the preset named by <see cref="PipelineOptions.RewardModel"/>.</summary>
    Fresh,
    /// <summary>
    /// Round 1 from the SFT trunk; each later round continues the previous round's reward model (each ensemble
    /// member its own) on every record so far, for <see cref="PipelineOptions.ContinuedRewardSteps"/> steps:
    /// what it learned is kept, and the new round's comparisons (from the policy RL moved) correct it.
    /// </summary>
    Previous,
}

/// <summary>How the reward model learns from a K-wise ranking (K ≥ 3).</summary>
public enum RankingLoss
{
    /// <summary>Plackett–Luce over the ranking's tie groups (one completion per group).</summary>
    PlackettLuce,
    /// <summary>Bradley–Terry on all K(K−1)/2 pairs in different tie groups (InstructGPT).</summary>
    Pairs,
}

/// <summary>Which optimizer turns preferences into a better policy each round.</summary>
public enum PipelineMethod
{
    /// <summary>PPO against the round's reward model.</summary>
    Ppo,
    /// <summary>A2C against the reward model.</summary>
    A2c,
    /// <summary>REINFORCE with a baseline against the reward model.</summary>
    Reinforce,
    /// <summary>RLOO against the reward model.</summary>
    Rloo,
    /// <summary>GRPO against the reward model.</summary>
    Grpo,
    /// <summary>REINFORCE++ against the reward model: no critic, KL in the reward, returns whitened over the rollout.</summary>
    ReinforcePlusPlus,
    /// <summary>DPO directly on the round's preference pairs (the reward model is still trained and reported).</summary>
    Dpo,
    /// <summary>ILQL, offline, on the round's sampled completions labelled by the reward model; evaluated with ILQL decoding (--ilql-beta).</summary>
    Ilql,
    /// <summary>Rejection-sampling fine-tuning (Llama 2, RAFT): the reward model's best of --best-of-n samples per prompt, learned by SFT.</summary>
    RejectionSampling,
}

/// <summary>
/// Every setting of <c>rlhf pipeline</c>, the iterative loop: SFT, then rounds of sampling comparisons,
/// collecting preferences, training a reward model and optimizing the policy. CLI flags map one to one; the
/// policy-gradient variants (<see cref="IPolicyGradientVariants"/>) and TR-DPO reference updates
/// (<see cref="IReferenceSyncSettings"/>) are PPO's own settings under PPO's flag names, passed to the RL stage.
/// </summary>
[OptionDescription(nameof(ClipLow), "ε_low of the RL stage's ratio clip, 1 − ε_low below (DAPO's clip-higher); empty means PPO's clip range, 0.2.")]
[OptionDescription(nameof(ClipHigh), "ε_high of the RL stage's ratio clip, 1 + ε_high above (DAPO uses 0.28 with clip-low 0.2); empty means PPO's clip range, 0.2.")]
[OptionDescription(nameof(OverlongBuffer), "DAPO's overlong buffer L_cache: responses longer than the task's response limit − L_cache lose score linearly (0 = off).")]
[OptionDescription(nameof(OverlongPenaltyFactor), "The overlong penalty at the task's response limit (DAPO: 1).")]
[OptionDescription(nameof(SimpoGamma), "SimPO's target reward margin γ (TRL's simpo_gamma); β is --kl-coef.")]
public sealed record PipelineOptions : IPolicyGradientVariants, IReferenceSyncSettings, IPreferenceLossSettings
{
    /// <summary>Built-in task with a gold reward: arithmetic or reviews.</summary>
    [Description("Built-in task with a gold reward: arithmetic or reviews.")]
    public string Task { get; init; } = "arithmetic";
    /// <summary>Arithmetic operands are drawn from [0, max-operand).</summary>
    [Description("Arithmetic operands are drawn from [0, max-operand).")]
    [Bounds(1, 1e6)]
    public int MaxOperand { get; init; } = 10;
    /// <summary>Fraction of SFT demonstrations that are wrong (arithmetic), as imperfect human demonstrations are.</summary>
    [Description("Fraction of SFT demonstrations that are wrong (arithmetic), as imperfect human demonstrations are.")]
    [Bounds(0, 1)]
    public double DemoErrorRate { get; init; } = 0.5;
    /// <summary>Model preset for the SFT policy.</summary>
    [Description("Model preset for the SFT policy.")]
    public string Model { get; init; } = "byte-small";
    /// <summary>SFT steps.</summary>
    [Description("SFT steps.")]
    [Bounds(1, Limits.MaxSteps)]
    public int SftSteps { get; init; } = 1500;
    /// <summary>SFT peak learning rate.</summary>
    [Description("SFT peak learning rate.")]
    [Bounds(0, Limits.MaxLr, MinExclusive = true, Why = Limits.LrWhy)]
    public float SftLr { get; init; } = 3e-3f;
    /// <summary>Rows per SFT batch.</summary>
    [Description("Rows per SFT batch.")]
    [Bounds(1, Limits.MaxBatch)]
    public int Batch { get; init; } = 32;
    /// <summary>
    /// Tokens per row for SFT and reward-model sequences. The default fits the arithmetic task: its longest prompt (<c>9+9=</c>,
    /// 4 bytes) and any completion the policy can sample (3 tokens, each of which a byte that is not UTF-8 turns into the 3 bytes of
    /// U+FFFD when the text is encoded again, then end-of-text: 10), the prompt truncated from the left when both do not fit.
    /// The reviews task needs about 112.
    /// </summary>
    [Description("Tokens per row for SFT and reward-model sequences (10 fits any arithmetic completion; reviews need about 112).")]
    [Bounds(2, Limits.MaxSeqLen)]
    public int SeqLen { get; init; } = 10;
    /// <summary>Feedback-and-training rounds after SFT.</summary>
    [Description("Feedback-and-training rounds after SFT.")]
    [Bounds(1, 1000)]
    public int Rounds { get; init; } = 2;
    /// <summary>Prompts whose sampled completions (two, or --completions-per-prompt) are judged each round.</summary>
    [Description("Prompts whose sampled completions (two, or --completions-per-prompt) are judged each round.")]
    [Bounds(4, Limits.MaxCount)]
    public int ComparisonsPerRound { get; init; } = 32768;
    /// <summary>Completions sampled per prompt and judged together (K ≥ 2): 2 makes pairs, K ≥ 3 a ranking of K (simulated labels only).</summary>
    [Description("Completions sampled per prompt and judged together (K ≥ 2): 2 makes pairs, K ≥ 3 a ranking of K (simulated labels only).")]
    [Bounds(2, 64, Why = "K ≥ 2 completions are judged per prompt")]
    public int CompletionsPerPrompt { get; init; } = 2;
    /// <summary>How the reward model learns from K-wise rankings: PlackettLuce, or Pairs (all K(K-1)/2 pairs, InstructGPT).</summary>
    [Description("How the reward model learns from K-wise rankings: PlackettLuce, or Pairs (all K(K-1)/2 pairs, InstructGPT).")]
    public RankingLoss RankingLoss { get; init; } = RankingLoss.PlackettLuce;
    /// <summary>Where preferences come from: Simulated or Human (rlhf label).</summary>
    [Description("Where preferences come from: Simulated or Human (rlhf label).")]
    public LabelSource Labels { get; init; } = LabelSource.Simulated;
    /// <summary>Simulated annotator: logit temperature on the gold-reward difference (0 = always the higher gold).</summary>
    [Description("Simulated annotator: logit temperature on the gold-reward difference (0 = always the higher gold).")]
    [Bounds(0, Limits.MaxThreshold)]
    public double AnnotatorTemperature { get; init; } = 0.1;
    /// <summary>Simulated annotator: probability of flipping a judgment.</summary>
    [Description("Simulated annotator: probability of flipping a judgment.")]
    [Bounds(0, 1)]
    public double AnnotatorFlip { get; init; } = 0.05;
    /// <summary>Simulated annotator: call a tie (no pair) when the gold rewards differ by less than this; 0.5 on arithmetic drops equally right or wrong pairs.</summary>
    [Description("Simulated annotator: call a tie (no pair) when the gold rewards differ by less than this; 0.5 on arithmetic drops equally right or wrong pairs.")]
    [Bounds(0, Limits.MaxThreshold)]
    public double AnnotatorTieMargin { get; init; } = 0.5;
    /// <summary>Simulated annotator: systematic length bias added to the logit per character A is longer than B.</summary>
    [Description("Simulated annotator: systematic length bias added to the logit per character A is longer than B.")]
    [Bounds(-Limits.MaxThreshold, Limits.MaxThreshold)]
    public double AnnotatorLengthBias { get; init; }
    /// <summary>Where each round's reward model starts: Sft (the SFT trunk, InstructGPT's choice), Fresh, or Previous (round 1 from the SFT trunk, later rounds continue the previous round's reward model).</summary>
    [Description("Where each round's reward model starts: Sft (the SFT trunk, InstructGPT's choice), Fresh, or Previous (round 1 from the SFT trunk, later rounds continue the previous round's reward model).")]
    public RewardInit RewardInit { get; init; } = RewardInit.Previous;
    /// <summary>Model preset of a Fresh reward model (empty: the policy's architecture).</summary>
    [Description("Model preset of a Fresh reward model (empty: the policy's architecture).")]
    public string RewardModel { get; init; } = "";
    /// <summary>Reward-model training steps per round (on every round's pairs so far).</summary>
    [Description("Reward-model training steps per round (on every round's pairs so far).")]
    [Bounds(1, Limits.MaxSteps)]
    public int RewardSteps { get; init; } = 1000;
    /// <summary>Steps of a reward model that continues the previous round's (--reward-init Previous, rounds 2 and later); 0 = --reward-steps.</summary>
    [Description("Steps of a reward model that continues the previous round's (--reward-init Previous, rounds 2 and later); 0 = --reward-steps.")]
    [Bounds(0, Limits.MaxSteps)]
    public int ContinuedRewardSteps { get; init; } = 250;
    /// <summary>Reward-model peak learning rate.</summary>
    [Description("Reward-model peak learning rate.")]
    [Bounds(0, Limits.MaxLr, MinExclusive = true, Why = Limits.LrWhy)]
    public float RewardLr { get; init; } = 3e-4f;
    /// <summary>Preference pairs per reward-model batch.</summary>
    [Description("Preference pairs per reward-model batch.")]
    [Bounds(1, Limits.MaxBatch)]
    public int RewardBatch { get; init; } = 32;
    /// <summary>Reward models per round: an ensemble of this many, each with its own seed and bootstrap resample of the feedback (1 = one model).</summary>
    [Description("Reward models per round: an ensemble of this many, each with its own seed and bootstrap resample of the feedback (1 = one model).")]
    [Bounds(1, 64)]
    public int RewardEnsemble { get; init; } = 4;
    /// <summary>Ensemble members' trunks: Own (full models) or Shared (member 0's trunk frozen, a fresh head per further member).</summary>
    [Description("Ensemble members' trunks: Own (full models) or Shared (member 0's trunk frozen, a fresh head per further member).")]
    public Reward.Ensemble.EnsembleTrunk RewardEnsembleTrunk { get; init; } = Reward.Ensemble.EnsembleTrunk.Own;
    /// <summary>How the ensemble's member scores become the policy's reward: Mean, Min or MeanStd (mean − λ·std).</summary>
    [Description("How the ensemble's member scores become the policy's reward: Mean, Min or MeanStd (mean − λ·std).")]
    public Reward.Ensemble.RewardAggregate RewardAggregate { get; init; } = Reward.Ensemble.RewardAggregate.Mean;
    /// <summary>λ of MeanStd (≥ 0).</summary>
    [Description("λ of MeanStd (≥ 0).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double UncertaintyCoef { get; init; } = 1.0;
    /// <summary>Prompts sampled twice from each round's post-RL policy to measure the reward model's accuracy under the shift RL causes (0 = off).</summary>
    [Description("Prompts sampled twice from each round's post-RL policy to measure the reward model's accuracy under the shift RL causes (0 = off).")]
    [Bounds(0, Limits.MaxCount)]
    public int ShiftEvalPrompts { get; init; } = 128;
    /// <summary>Stop a round's RL early when the reward-hacking monitor warns (proxy up while gold falls or ensemble disagreement rises).</summary>
    [Description("Stop a round's RL early when the reward-hacking monitor warns (proxy up while gold falls or ensemble disagreement rises).")]
    public bool StopOnHacking { get; init; }
    /// <summary>Fraction of pairs held out to measure the reward model's accuracy.</summary>
    [Description("Fraction of pairs held out to measure the reward model's accuracy.")]
    [Bounds(0, 1, MinExclusive = true, MaxExclusive = true)]
    public double RewardEvalFraction { get; init; } = 0.15;
    /// <summary>Policy optimizer: Ppo, A2c, Reinforce, Rloo, Grpo, ReinforcePlusPlus, Dpo (with --dpo-loss), Ilql or RejectionSampling.</summary>
    [Description("Policy optimizer: Ppo, A2c, Reinforce, Rloo, Grpo, ReinforcePlusPlus, Dpo (with --dpo-loss), Ilql or RejectionSampling.")]
    public PipelineMethod Method { get; init; } = PipelineMethod.RejectionSampling;
    /// <summary>Optimize the policy against the gold reward instead of the reward model (an oracle upper bound for research).</summary>
    [Description("Optimize the policy against the gold reward instead of the reward model (an oracle upper bound for research).")]
    public bool OptimizeGold { get; init; }
    /// <summary>β of ILQL decoding for --method Ilql: the policy samples from logits + β·(min target Q − V).</summary>
    [Description("β of ILQL decoding for --method Ilql: the round's policy samples (and is evaluated) from logits + β·(min target Q − V); 1 is trlx's generation default, where the advantage counts as much as the behaviour log-probability; 0 is the behaviour-cloned policy alone.")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double IlqlBeta { get; init; } = 1;
    /// <summary>Samples per prompt of --method RejectionSampling, of which the reward model's best is kept.</summary>
    [Description("Samples per prompt of --method RejectionSampling, of which the reward model's best is kept.")]
    [Bounds(1, 1024)]
    public int BestOfN { get; init; } = 8;
    /// <summary>Prompts sampled per round by --method RejectionSampling, each contributing its best completion to the round's SFT set.</summary>
    [Description("Prompts sampled per round by --method RejectionSampling, each contributing its best completion to the round's SFT set.")]
    [Bounds(1, Limits.MaxCount)]
    public int RejectionPrompts { get; init; } = 2048;
    /// <summary>SFT steps of --method RejectionSampling on the round's winners (batches of --batch).</summary>
    [Description("SFT steps of --method RejectionSampling on the round's winners (batches of --batch).")]
    [Bounds(1, Limits.MaxSteps)]
    public int RejectionSteps { get; init; } = 200;
    /// <summary>Peak learning rate of --method RejectionSampling's SFT stage.</summary>
    [Description("Peak learning rate of --method RejectionSampling's SFT stage.")]
    [Bounds(0, Limits.MaxLr, MinExclusive = true, Why = Limits.LrWhy)]
    public float RejectionLr { get; init; } = 1e-3f;
    /// <summary>Policy-optimization steps per round (PPO rollouts, or DPO or ILQL steps).</summary>
    [Description("Policy-optimization steps per round (PPO rollouts, or DPO or ILQL steps).")]
    [Bounds(1, Limits.MaxSteps)]
    public int PolicySteps { get; init; } = 80;
    /// <summary>Policy learning rate.</summary>
    [Description("Policy learning rate.")]
    [Bounds(0, Limits.MaxLr, MinExclusive = true, Why = Limits.LrWhy)]
    public float PolicyLr { get; init; } = 3e-4f;
    /// <summary>KL penalty coefficient to the SFT reference (RL methods); β of --method Dpo's losses (DPO, IPO, KTO, SimPO; ORPO uses --orpo-lambda).</summary>
    [Description("KL penalty coefficient to the SFT reference (RL methods); β of --method Dpo's losses (DPO, IPO, KTO, SimPO; ORPO uses --orpo-lambda).")]
    [Bounds(0, Limits.MaxCoefficient)]
    public double KlCoef { get; init; } = 0.2;
    /// <summary>Prompts per PPO rollout.</summary>
    [Description("Prompts per PPO rollout.")]
    [Bounds(1, Limits.MaxBatch)]
    public int PromptsPerStep { get; init; } = 32;
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
    /// <inheritdoc/>
    public int RefSyncEvery { get; init; }
    /// <summary>
    /// The loss of --method Dpo: Sigmoid (DPO), Ipo, Kto, Orpo or Simpo. KTO learns from the round's pairs as unpaired
    /// examples (each chosen completion desirable, each rejected one undesirable); ORPO and SimPO load no reference model.
    /// </summary>
    [Description("The loss of --method Dpo: Sigmoid (DPO), Ipo, Kto (the round's pairs as unpaired examples: chosen desirable, rejected undesirable), Orpo or Simpo (these two need no reference model).")]
    public DpoLossKind DpoLoss { get; init; } = DpoLossKind.Sigmoid;
    /// <inheritdoc/>
    public double OrpoLambda { get; init; } = 0.1;
    /// <inheritdoc/>
    public double DesirableWeight { get; init; } = 1.0;
    /// <inheritdoc/>
    public double UndesirableWeight { get; init; } = 1.0;
    /// <inheritdoc/>
    public double SimpoGamma { get; init; } = 0.5;
    /// <inheritdoc/>
    public double RefMix { get; init; } = 0.6;
    /// <summary>Prompts in the fixed evaluation set.</summary>
    [Description("Prompts in the fixed evaluation set.")]
    [Bounds(1, Limits.MaxCount)]
    public int EvalPrompts { get; init; } = 400;
    /// <summary>Seed of everything random.</summary>
    [Description("Seed of everything random.")]
    public ulong Seed { get; init; } = 1337;
    /// <summary>Several seeds, each run in OUT/seed-N with one table at the end (e.g. 1-10 or 1,5,7; empty = just --seed).</summary>
    [Description("Several seeds, each run in OUT/seed-N with one table at the end (e.g. 1-10 or 1,5,7; empty = just --seed).")]
    public string Seeds { get; init; } = "";
    /// <summary>Output folder: sft/, round-N/, report.csv, overoptimization.svg.</summary>
    [Description("Output folder: sft/, round-N/, report.csv, overoptimization.svg.")]
    public string OutDir { get; init; } = "runs/pipeline";
    /// <summary>Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).</summary>
    [Description("Backend: cpu, cuda (CUDA C kernels via NVRTC), cuda-ilgpu (ILGPU kernels on CUDA) or ilgpu-cpu (ILGPU kernels on ILGPU's CPU accelerator: tiny models only).")]
    public string Device { get; init; } = "cpu";
    /// <summary>CPU threads (0 = all).</summary>
    [Description("CPU threads (0 = all).")]
    [Bounds(0, 0, MaxPerCore = Limits.ThreadsPerCore, Why = Limits.ThreadsWhy)]
    public int Threads { get; init; }

    /// <summary>Whether <see cref="Method"/> is one of the PPO family (trained by <see cref="PpoTrainer"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsPolicyGradient => Method is PipelineMethod.Ppo or PipelineMethod.A2c or PipelineMethod.Reinforce or PipelineMethod.Rloo
        or PipelineMethod.Grpo or PipelineMethod.ReinforcePlusPlus;

    /// <summary>The RL method for <see cref="Method"/> (not Dpo).</summary>
    public PolicyGradientMethod RlMethod() => Method switch
    {
        PipelineMethod.Ppo => PolicyGradientMethod.Ppo,
        PipelineMethod.A2c => PolicyGradientMethod.A2c,
        PipelineMethod.Reinforce => PolicyGradientMethod.Reinforce,
        PipelineMethod.Rloo => PolicyGradientMethod.Rloo,
        PipelineMethod.Grpo => PolicyGradientMethod.Grpo,
        PipelineMethod.ReinforcePlusPlus => PolicyGradientMethod.ReinforcePlusPlus,
        _ => throw new InvalidOperationException($"{Method} is not a policy-gradient method"),
    };

    /// <summary>
    /// The RL stage's settings from these flags, for responses of up to <paramref name="maxNewTokens"/> tokens (the task's
    /// limit); the caller sets the round's seed and folder. Minibatches are half a rollout.
    /// </summary>
    public PpoOptions PolicyGradientOptions(int maxNewTokens)
    {
        var method = RlMethod();
        return new PpoOptions
        {
            Method = method, Steps = PolicySteps, PromptsPerStep = PromptsPerStep, MaxNewTokens = maxNewTokens,
            KlCoef = KlCoef, Lr = PolicyLr, CheckpointEvery = 0, StopOnHacking = StopOnHacking,
            MiniBatch = Math.Max(1, PromptsPerStep / 2) * (method is PolicyGradientMethod.Rloo or PolicyGradientMethod.Grpo ? 4 : 1),
            RefSyncEvery = RefSyncEvery, RefMix = RefMix,
        }.CopyVariants(this);
    }

    /// <summary>
    /// The preference stage's settings (--method Dpo) from these flags: β is --kl-coef, batches hold half of --batch
    /// pairs (KTO: examples), rows are --seq-len; the caller sets the round's seed and folder.
    /// </summary>
    public DpoOptions PreferenceOptions() => new DpoOptions
    {
        Loss = DpoLoss, Beta = KlCoef, Steps = PolicySteps, Lr = PolicyLr, Batch = Math.Max(2, Batch / 2), SeqLen = SeqLen,
        EvalEvery = 0, CheckpointEvery = 0, RefSyncEvery = RefSyncEvery, RefMix = RefMix,
    }.CopyWeights(this);

    /// <summary>The ensemble aggregation the flags describe.</summary>
    public Reward.Ensemble.RewardAggregation Aggregation => new(RewardAggregate, UncertaintyCoef);

    /// <summary>The seeds of <see cref="Seeds"/> ("1-10", "1,5,7", or both mixed); just <see cref="Seed"/> when empty.</summary>
    public IReadOnlyList<ulong> SeedList()
    {
        if (Seeds.Trim().Length == 0) return [Seed];
        var seeds = new List<ulong>();
        foreach (var part in Seeds.Split(',', StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-', StringSplitOptions.TrimEntries);
            if (ends.Length is < 1 or > 2 || !ulong.TryParse(ends[0], out ulong lo) || !ulong.TryParse(ends[^1], out ulong hi) || hi < lo || hi - lo > 10000)
                throw new ArgumentException($"--seeds: '{part}' is not a seed or a range lo-hi (e.g. 1-10 or 1,5,7)");
            for (ulong s = lo; s <= hi; s++) seeds.Add(s);
        }
        return seeds.Distinct().ToList();
    }

    /// <summary>Throws naming the flag when a value is out of range.</summary>
    public PipelineOptions Validate()
    {
        OptionBounds.Check(this);
        if (CompletionsPerPrompt > 2 && Labels == LabelSource.Human)
            throw new ArgumentException($"--completions-per-prompt {CompletionsPerPrompt} ranks K completions, and rlhf label shows pairs: use --labels Simulated, or --completions-per-prompt 2");
        Aggregation.ValidateFor(RewardEnsemble, "--reward-ensemble");
        SeedList();
        if (ContinuedRewardSteps != new PipelineOptions().ContinuedRewardSteps && RewardInit != RewardInit.Previous)
            throw new ArgumentException("--continued-reward-steps sets the steps of a reward model that continues the previous round's: add --reward-init Previous");
        if (RewardModel.Length > 0 && RewardInit != RewardInit.Fresh) throw new ArgumentException("--reward-model names a preset for a fresh reward model: add --reward-init Fresh");
        ValidateRejectionSampling();
        ValidatePolicyStage();
        return this;
    }

    /// <summary>Rejection sampling's own settings, for it alone; and the RL and preference stages' step, rate and KL settings, which it does not read, an error with it.</summary>
    private void ValidateRejectionSampling()
    {
        var defaults = new PipelineOptions();
        string[] own = [nameof(BestOfN), nameof(RejectionPrompts), nameof(RejectionSteps), nameof(RejectionLr)];
        string[] others = [nameof(PolicySteps), nameof(PolicyLr), nameof(KlCoef), nameof(PromptsPerStep)];
        bool rs = Method == PipelineMethod.RejectionSampling;
        foreach (var name in rs ? others : own)
        {
            var p = typeof(PipelineOptions).GetProperty(name)!;
            if (Equals(p.GetValue(this), p.GetValue(defaults))) continue;
            throw new ArgumentException(rs
                ? $"{OptionBounds.FlagName(name)} is not used by --method RejectionSampling: its SFT stage takes --rejection-steps and --rejection-lr, and it has no KL penalty"
                : $"{OptionBounds.FlagName(name)} is a setting of --method RejectionSampling; --method {Method} does not use it");
        }
    }

    /// <summary>
    /// The RL stage's flags checked as <c>rlhf ppo</c> checks them (the same messages, before any stage runs); a
    /// policy-gradient or preference-loss flag with another method is an error rather than silently unused.
    /// </summary>
    private void ValidatePolicyStage()
    {
        if (Method == PipelineMethod.Dpo)
        {
            if (KlCoef <= 0) throw new ArgumentException($"--kl-coef is the β of --method Dpo's losses: it must be above 0, got {KlCoef}");
            PreferenceOptions().Validate();
        }
        else
        {
            var defaults = new PipelineOptions();
            foreach (var p in typeof(IPreferenceLossSettings).GetProperties().Append(typeof(PipelineOptions).GetProperty(nameof(DpoLoss))!))
                if (!Equals(p.GetValue(this), p.GetValue(defaults)))
                    throw new ArgumentException($"{OptionBounds.FlagName(p.Name)} is a setting of --method Dpo; --method {Method} does not use it");
        }
        if (!IsPolicyGradient)
        {
            var defaults = new PipelineOptions();
            foreach (var p in typeof(IPolicyGradientVariants).GetProperties())
                if (!Equals(p.GetValue(this), p.GetValue(defaults)))
                    throw new ArgumentException($"{OptionBounds.FlagName(p.Name)} is a setting of the policy-gradient methods; --method {Method} does not use it");
            return;
        }
        int maxNewTokens = Data.Tasks.GoldTasks.Create(Task, new Data.Tasks.ArithmeticTask(MaxOperand, DemoErrorRate)).MaxCompletionChars + 1;
        if (OverlongBuffer > maxNewTokens)
            throw new ArgumentException($"--overlong-buffer {OverlongBuffer} is longer than the {Task} task's response limit of {maxNewTokens} tokens: the soft band lies inside that limit");
        PolicyGradientOptions(maxNewTokens).Validate();
    }
}
