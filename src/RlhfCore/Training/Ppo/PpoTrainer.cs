using RlhfCore.Rl;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ppo;

/// <summary>
/// RL fine-tuning of a language-model policy against a reward function with a KL penalty to a frozen
/// reference (InstructGPT / Ziegler et al. / TRL's PPOTrainer), and its siblings A2C, REINFORCE, RLOO and
/// GRPO, all sharing one rollout and one loss. Each <see cref="Step"/>: sample responses for a batch of
/// prompts, score them, assemble per-token rewards, compute advantages (GAE with the value head, or
/// sequence baselines), then run epochs of shuffled minibatches of the clipped objective with AdamW, and
/// update the KL controller. Policy and value share one trunk (TRL's causal LM with value head).
/// A minibatch whose loss or gradient norm is not finite is skipped before it reaches the weights.
/// </summary>
public sealed class PpoTrainer : IDisposable
{
    private readonly GptModel _policy;
    private readonly IRewardFunction _reward;
    private readonly IRewardFunction? _gold;
    private readonly HackingMonitor _hacking;
    private double _previousKl = double.NaN;
    private readonly IReadOnlyList<string> _prompts;
    private readonly PpoOptions _o;
    private readonly ResolvedMethod _m;
    private readonly GptActivations _acts;
    private readonly RolloutCollector _collector;
    private readonly PolicyLoss _loss;
    private readonly GaeAdvantages _gae;
    private readonly OptimizerLoop _loop;
    private readonly ShuffleSampler _sampler;
    private string _referenceHash;
    private readonly GptModel _reference;
    private readonly ReferenceSync _sync;
    private readonly Rng _rng;
    private double? _baseline;
    private readonly OverlongPenalty? _overlong;
    // Host staging for one minibatch, allocated once: the optimization phase runs epochs × rollout / minibatch
    // times per step and must not allocate per minibatch.
    private readonly int[] _order;
    private readonly int[] _tokens, _positions, _keyMask, _actions;
    private readonly PolicyLossInputs _minibatch;

    /// <summary>The optimizer (its state and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer => _loop.Optimizer;
    /// <summary>The KL coefficient controller.</summary>
    public KlController KlController { get; }
    /// <summary>Rollout steps completed.</summary>
    public int StepsDone => _loop.StepsDone;
    /// <summary>Sequences sampled so far.</summary>
    public long Episode { get; private set; }
    /// <summary>Minibatches skipped for non-finite values so far.</summary>
    public int SkippedMinibatches => _loop.Progress.StepsSkipped;
    /// <summary>True when the run stopped early because the reward-hacking monitor warned (<see cref="PpoOptions.StopOnHacking"/>).</summary>
    public bool StoppedForHacking { get; private set; }
    /// <summary>The options with the method's defaults.</summary>
    public ResolvedMethod Method => _m;
    /// <summary>The reference model (moved by --ref-sync-every, else frozen).</summary>
    public GptModel Reference => _reference;
    /// <summary>Whether the reference moves (--ref-sync-every), so a checkpoint must hold it.</summary>
    public bool MovesReference => _o.RefSyncEvery > 0;

    /// <summary>Overwrites the reference's parameters with <paramref name="source"/>'s (a checkpoint's moved reference).</summary>
    public void ReplaceReference(GptModel source)
    {
        if (source.Config != _reference.Config) throw new ArgumentException($"the checkpoint's reference ({source.Config}) does not have the reference's architecture ({_reference.Config})");
        foreach (var spec in _reference.Table) _reference.Backend.Copy(_reference.Parameters[spec.Name], source.Parameters[spec.Name]);
        _referenceHash = ParameterHash(_reference);
    }

    /// <summary>
    /// Prepares a run. <paramref name="policy"/> is trained in place (it needs a value head for PPO and
    /// A2C); <paramref name="reference"/> is never written; <paramref name="prompts"/> are drawn in a seeded
    /// shuffled order, epoch after epoch. <paramref name="gold"/>, where the task has one, is logged beside the
    /// proxy (never optimized) so the reward-hacking monitor can compare them.
    /// </summary>
    public PpoTrainer(GptModel policy, GptModel reference, IRewardFunction reward, ITokenizer tokenizer, IReadOnlyList<string> prompts, PpoOptions options,
        IRewardFunction? gold = null)
    {
        _o = options.Validate();
        _m = options.Resolve();
        if (ReferenceEquals(policy, reference)) throw new ArgumentException("the reference must be a separate model: the policy is updated in place");
        if (_m.UsesValueHead && !policy.Heads.HasFlag(ModelHeads.Value))
            throw new ArgumentException($"--method {options.Method} trains a value head, and the policy has none (load it with ModelHeads.Value)");
        if (tokenizer.VocabSize > policy.Config.VocabSize)
            throw new ArgumentException($"the {tokenizer.Name} tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {policy.Config.VocabSize}");
        if (prompts.Count == 0) throw new ArgumentException("no prompts");
        int maxPrompt = 0;
        for (int i = 0; i < prompts.Count; i++)
        {
            int len = tokenizer.Encode(prompts[i]).Length;
            if (len == 0) throw new ArgumentException($"prompt {i} is empty");
            if (len + options.MaxNewTokens > policy.Config.MaxSeqLen)
                throw new ArgumentException($"prompt {i} has {len} tokens; with --max-new-tokens {options.MaxNewTokens} it exceeds the model's context of {policy.Config.MaxSeqLen} tokens");
            maxPrompt = Math.Max(maxPrompt, len);
        }
        _policy = policy;
        _reward = reward;
        _gold = gold;
        _hacking = new HackingMonitor(options.HackingWindow);
        _prompts = prompts;
        _reference = reference;
        _sync = new ReferenceSync(options.RefSyncEvery, options.RefMix);
        _referenceHash = ParameterHash(reference);
        int rollout = options.RolloutSize, T = maxPrompt + options.MaxNewTokens;
        _acts = new GptActivations(policy.Backend, policy.Config, options.MiniBatch, T);
        _collector = new RolloutCollector(policy, reference, tokenizer, _acts, rollout, maxPrompt, options.MaxNewTokens, options.Temperature, options.StopAtEos);
        _loss = new PolicyLoss(policy, _acts, new PolicyLossSettings(_m.ClipRange, _m.ClipRangeValue, _m.UsesValueHead ? options.VfCoef : 0f,
            options.EntropyCoef, _m.KlInLoss, _m.Estimator, options.Temperature, _m.Clip, _m.Aggregation, options.MaxNewTokens, _m.SequenceLevel));
        _overlong = options.OverlongBuffer > 0 ? new OverlongPenalty(options.MaxNewTokens, options.OverlongBuffer, options.OverlongPenaltyFactor) : null;
        _gae = new GaeAdvantages(policy.Backend, rollout, T);
        _sampler = new ShuffleSampler(prompts.Count, options.Seed);
        _rng = new Rng(options.Seed ^ 0x9905EEDUL);
        KlController = new KlController(options.KlCoef, options.KlTarget > 0 ? options.KlTarget : null, options.KlHorizon);
        _loop = new OptimizerLoop(policy, options, _sampler, _rng);
        _order = new int[rollout];
        int rows = options.MiniBatch * T;
        (_tokens, _positions, _keyMask, _actions) = (new int[rows], new int[rows], new int[rows], new int[rows]);
        _minibatch = new PolicyLossInputs(new float[rows], new float[rows], new float[rows], new float[rows], new float[rows], new float[rows]);
    }

    /// <summary>The state a checkpoint needs besides the policy's parameters and the moments.</summary>
    public PpoTrainerState CaptureState() =>
        new(_loop.Progress.Capture(),
            new PpoRlState(Episode, KlController.Value, _baseline, _referenceHash, double.IsFinite(_previousKl) ? _previousKl : null));

    /// <summary>Restores <see cref="CaptureState"/>'s output; throws when the reference model differs from the checkpoint's.</summary>
    public void RestoreState(PpoTrainerState state)
    {
        var (common, rl) = (state.Common, state.Rl);
        if (rl.ReferenceSha256 != _referenceHash)
            throw new InvalidOperationException($"the reference model differs from the one this run started with (parameter hash {_referenceHash[..12]}…, checkpoint {rl.ReferenceSha256[..Math.Min(12, rl.ReferenceSha256.Length)]}…); resume with the same --reference / --init-from");
        _loop.Progress.Restore(common);
        Episode = rl.Episode;
        KlController.Value = rl.KlCoef;
        _baseline = rl.Baseline;
        _previousKl = rl.PreviousKl ?? double.NaN;
    }

    /// <summary>
    /// Runs rollout steps until <see cref="RlhfCore.Training.Core.TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the
    /// step in progress finishes first). <paramref name="onCheckpoint"/> is asked to save at the configured
    /// interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<PpoStepReport> onStep, Action<PpoTrainer> onCheckpoint)
    {
        while (StepsDone < _o.Steps && !cancel.IsCancellationRequested && !StoppedForHacking)
        {
            var report = Step();
            onStep(report);
            StoppedForHacking = _o.StopOnHacking && report.HackingWarning != null;
            if (StoppedForHacking || _loop.CheckpointDue) onCheckpoint(this);
        }
    }

    /// <summary>One rollout and its optimization.</summary>
    public PpoStepReport Step()
    {
        int step = StepsDone;
        var metrics = new Dictionary<string, double>();
        var (r, raw, scores, disagreement) = _o.DynamicSampling ? SampleDynamically(metrics) : Sample();
        var tokenKl = RewardShaping.TokenKl(r, _m.Estimator);
        double beta = KlController.Value;
        var rewards = RewardShaping.TokenRewards(r, scores, tokenKl, beta, !_m.KlInLoss, _o.WhitenRewards);
        var (advantages, returns) = Advantages(r, rewards);
        var lossStats = Optimize(r, advantages, returns, beta, _loop.LearningRateAt(step), metrics, out int skipped);

        double meanKl = PerSequenceMean(r, tokenKl);
        KlController.Update(meanKl, r.B);
        _loop.Progress.Advance(skipped);
        Episode += r.B;
        if (_sync.DueAfter(StepsDone))
        {
            _sync.Mix(_policy, _reference);
            _referenceHash = ParameterHash(_reference);
        }

        double nonScore = -beta * meanKl, meanScore = scores.Average();
        metrics["objective/kl"] = meanKl;
        metrics["objective/entropy"] = PerSequenceMean(r, r.Logp.Select(x => -(double)x).ToArray());
        metrics["objective/non_score_reward"] = nonScore;
        metrics["objective/rlhf_reward"] = meanScore + nonScore;
        metrics["objective/scores"] = meanScore;
        metrics["objective/kl_coef"] = beta;
        // Reward-hacking signals: how fast KL grows, what the gold reward (never optimized) and the ensemble say.
        metrics["objective/kl_growth"] = meanKl - _previousKl;
        _previousKl = meanKl;
        double gold = double.NaN;
        if (_gold != null)
        {
            gold = _gold.Score(r.PromptTexts, r.ResponseTexts).Average();
            metrics["reward/gold"] = gold;
            metrics["reward/gold_minus_proxy"] = gold - raw.Average();
        }
        if (double.IsFinite(disagreement)) metrics["reward/disagreement"] = disagreement;
        string? warning = _hacking.Observe(step, raw.Average(), gold, disagreement);
        metrics["val/num_eos_tokens"] = r.StoppedAtEos.Count(e => e);
        metrics["val/mean_response_length"] = r.ResponseLengths.Average();
        AddMoments(metrics, "returns", returns, r.Mask);
        AddMoments(metrics, "advantages", advantages, r.Mask);
        if (_m.UsesValueHead) metrics["val/explained_variance"] = ExplainedVariance(returns, r.Values, r.Mask);
        foreach (var (name, value) in lossStats) metrics[name] = value;
        metrics["lr"] = _loop.LearningRateAt(step);
        metrics["episode"] = Episode;
        metrics["skipped_minibatches"] = skipped;
        return new PpoStepReport(step, metrics, r, scores, skipped, warning);
    }

    /// <summary>One rollout, its raw scores, the scores after the adjustments and the overlong penalty, and the ensemble's disagreement.</summary>
    private sealed record Scored(RolloutBatch Rollout, double[] Raw, double[] Scores, double Disagreement);

    /// <summary>Samples k responses for each of a step's prompts and scores them.</summary>
    private Scored Sample()
    {
        int k = _m.SamplesPerPrompt;
        var prompts = new string[_o.RolloutSize];
        for (int p = 0; p < _o.PromptsPerStep; p++)
        {
            string prompt = _prompts[_sampler.Next()];
            for (int j = 0; j < k; j++) prompts[p * k + j] = prompt;
        }
        var r = _collector.Collect(prompts, _rng);
        double disagreement = double.NaN;
        double[] raw;
        if (_reward is IEnsembleReward ensemble)
        {
            var all = ensemble.ScoreEnsemble(r.PromptTexts, r.ResponseTexts);
            raw = ensemble.Aggregate(all);
            if (ensemble.Members > 1) disagreement = all.MeanDisagreement;
        }
        else raw = _reward.Score(r.PromptTexts, r.ResponseTexts);
        if (raw.Length != r.B) throw new InvalidOperationException($"the reward function returned {raw.Length} scores for {r.B} responses");
        var scores = RewardShaping.AdjustScores(raw, r.StoppedAtEos, _o.StopAtEos, _o.MissingEosPenalty, _o.ScoreClip);
        if (_overlong != null) scores = _overlong.Apply(scores, r.ResponseLengths);
        return new Scored(r, raw, scores, disagreement);
    }

    /// <summary>One prompt's k samples inside a scored rollout.</summary>
    private sealed record Group(Scored Source, int Start, int K)
    {
        public IReadOnlyList<double> Scores => new ArraySegment<double>(Source.Scores, Start, K);
    }

    /// <summary>
    /// DAPO's dynamic sampling: rollouts are drawn until the step's prompt groups all have scores that differ (or
    /// --dynamic-sampling-tries rollouts were drawn); a batch still short repeats its kept groups in order, so the
    /// rollout keeps its size (verl stops with an error there instead).
    /// </summary>
    private Scored SampleDynamically(Dictionary<string, double> metrics)
    {
        int k = _m.SamplesPerPrompt;
        var result = Rl.DynamicSampling.Fill(_o.PromptsPerStep, _o.DynamicSamplingTries, _ =>
            {
                var s = Sample();
                return Enumerable.Range(0, _o.PromptsPerStep).Select(p => new Group(s, p * k, k)).ToList();
            }, g => g.Scores,
            $"raise --dynamic-sampling-tries (now {_o.DynamicSamplingTries}) or drop --dynamic-sampling");
        var kept = result.Groups;
        var sequences = new List<(RolloutBatch, int)>(_o.RolloutSize);
        var raw = new double[_o.RolloutSize];
        var scores = new double[_o.RolloutSize];
        for (int p = 0; p < _o.PromptsPerStep; p++)
        {
            var g = kept[p % kept.Count];
            for (int j = 0; j < k; j++)
            {
                sequences.Add((g.Source.Rollout, g.Start + j));
                raw[p * k + j] = g.Source.Raw[g.Start + j];
                scores[p * k + j] = g.Source.Scores[g.Start + j];
            }
        }
        var disagreements = kept.Select(g => g.Source.Disagreement).Where(double.IsFinite).ToList();
        metrics["dynamic_sampling/draws"] = result.Draws;
        metrics["dynamic_sampling/dropped_groups"] = result.Dropped;
        metrics["dynamic_sampling/repeated_groups"] = _o.PromptsPerStep - kept.Count;
        return new Scored(RolloutBatch.Select(sequences), raw, scores, disagreements.Count > 0 ? disagreements.Average() : double.NaN);
    }

    /// <summary>Per-token advantages and returns for the method.</summary>
    private (float[] Advantages, float[] Returns) Advantages(RolloutBatch r, float[] rewards)
    {
        switch (_o.Method)
        {
            case PolicyGradientMethod.Ppo or PolicyGradientMethod.A2c:
                return _gae.Run(rewards, r.Values, r.Mask, _o.Gamma, _o.Lam, _o.WhitenAdvantages);
            case PolicyGradientMethod.Reinforce:
            {
                // Monte-Carlo returns-to-go: GAE with zero values and λ = 1.
                var (toGo, _) = _gae.Run(rewards, new float[rewards.Length], r.Mask, _o.Gamma, 1f, whiten: false);
                double mean = SequenceAdvantages.Returns(r, rewards).Average();
                double baseline = _baseline ?? mean;
                // A non-finite rollout (its minibatches are skipped) must not poison the baseline for good.
                if (double.IsFinite(mean)) _baseline = _baseline is double b ? _o.BaselineDecay * b + (1 - _o.BaselineDecay) * mean : mean;
                var a = SequenceAdvantages.Reinforce(r, toGo, baseline);
                return (Whiten(a, r.Mask), toGo);
            }
            case PolicyGradientMethod.Rloo:
            {
                var R = SequenceAdvantages.Returns(r, rewards);
                var a = SequenceAdvantages.Spread(r, SequenceAdvantages.Rloo(R, _m.SamplesPerPrompt));
                return (Whiten(a, r.Mask), SequenceAdvantages.Spread(r, R));
            }
            case PolicyGradientMethod.Grpo:
            {
                var R = SequenceAdvantages.Returns(r, rewards);
                return (SequenceAdvantages.Spread(r, GroupAdvantages.Compute(R, _m.SamplesPerPrompt, _m.Scaling)), SequenceAdvantages.Spread(r, R));
            }
            case PolicyGradientMethod.ReinforcePlusPlus:
            {
                var toGo = ReinforcePlusPlus.ReturnsToGo(rewards, r.Mask, r.B, _o.Gamma);
                return (ReinforcePlusPlus.Advantages(toGo, r.Mask), toGo.Select(x => (float)x).ToArray());
            }
            default:
                throw new InvalidOperationException($"unknown method {_o.Method}");
        }
    }

    private float[] Whiten(float[] a, float[] mask)
    {
        if (!_o.WhitenAdvantages) return a;
        var x = a.Select(v => (double)v).ToArray();
        RewardShaping.MaskedWhiten(x, mask, shiftMean: true);
        return x.Select(v => (float)v).ToArray();
    }

    /// <summary>Epochs of shuffled minibatches; returns the TRL loss statistics averaged over the minibatches that ran.</summary>
    internal List<(string, double)> Optimize(RolloutBatch r, float[] advantages, float[] returns, double beta, float lr,
        Dictionary<string, double> metrics, out int skipped)
    {
        var t = OptimizeMinibatches(r, advantages, returns, beta, lr);
        skipped = t.Skipped;
        metrics["epochs_run"] = t.EpochsRun;
        double n = Math.Max(t.Count, 1);
        var result = new List<(string, double)>
        {
            ("loss/total_avg", t.Loss / n), ("loss/policy_avg", t.PolicyLoss / n), ("policy/entropy_avg", t.Entropy / n), ("policy/clipfrac_avg", t.ClipFrac / n),
            ("policy/approxkl_avg", t.ApproxKl / n), ("val/ratio", t.Ratio / n), ("val/ratio_var", Math.Max(0, t.RatioSquared / n - t.Ratio / n * (t.Ratio / n))),
        };
        if (_m.UsesValueHead) result.AddRange([("loss/value_avg", t.ValueLoss / n), ("val/clipfrac_avg", t.ValueClipFrac / n)]);
        if (_m.KlInLoss) result.Add(("loss/kl_avg", t.KlLoss / n));
        // verl's pg_clipfrac_lower: tokens whose loss the dual clip bounded.
        if (_o.DualClip != 0) result.Add(("policy/clipfrac_lower", t.DualClipFrac / n));
        if (t.Count == 0) for (int i = 0; i < result.Count; i++) result[i] = (result[i].Item1, double.NaN);
        return result;
    }

    /// <summary>
    /// The optimization phase itself: epochs of shuffled minibatches, each one update through the loop's
    /// <see cref="OptimizerLoop.TryUpdate"/> (a minibatch with a non-finite loss or norm is skipped). It allocates
    /// nothing: minibatches are staged through buffers allocated once, and the statistics are summed in a struct.
    /// </summary>
    internal MinibatchTotals OptimizeMinibatches(RolloutBatch r, float[] advantages, float[] returns, double beta, float lr)
    {
        int mb = _o.MiniBatch;
        var t = default(MinibatchTotals);
        var order = _order;
        var rng = _rng;
        bool stop = false;
        for (int epoch = 0; epoch < _m.Epochs && !stop; epoch++)
        {
            t.EpochsRun++;
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Shuffle.InPlace(order.AsSpan(), ref rng);
            for (int start = 0; start < r.B && !stop; start += mb)
            {
                var rows = order.AsSpan(start, mb);
                r.UploadThrough(_policy.Backend, _acts, rows, _tokens, _positions, _keyMask, _actions);
                var x = _minibatch;
                r.Gather(r.Mask, rows, x.Mask); r.Gather(r.Logp, rows, x.OldLogp); r.Gather(r.RefLogp, rows, x.RefLogp);
                r.Gather(advantages, rows, x.Advantages); r.Gather(returns, rows, x.Returns); r.Gather(r.Values, rows, x.OldValues);
                _policy.ZeroGradients();
                var s = _loss.Run(x, beta, backward: true);
                if (!_loop.TryUpdate(s.Loss, lr, out _))
                {
                    t.Skipped++;
                    continue;
                }
                t.Add(s);
                if (_o.TargetKl > 0 && s.ApproxKl > _o.TargetKl) stop = true;
            }
        }
        return t;
    }

    private static double PerSequenceMean(RolloutBatch r, IReadOnlyList<double> perToken)
    {
        double sum = 0;
        for (int n = 0; n < perToken.Count; n++) if (r.Mask[n] != 0) sum += perToken[n];
        return sum / r.B;
    }

    private static void AddMoments(Dictionary<string, double> metrics, string name, float[] x, float[] mask)
    {
        var (mean, variance) = RewardShaping.MaskedMoments(x.Select(v => (double)v).ToArray(), mask);
        metrics[name + "/mean"] = mean;
        metrics[name + "/std"] = Math.Sqrt(variance);
    }

    /// <summary>1 − Var(R − V)/Var(R) over action rows: how much of the returns the value head explains.</summary>
    public static double ExplainedVariance(float[] returns, float[] values, float[] mask)
    {
        var residual = returns.Select((R, i) => (double)R - values[i]).ToArray();
        var (_, varR) = RewardShaping.MaskedMoments(returns.Select(v => (double)v).ToArray(), mask);
        var (_, varE) = RewardShaping.MaskedMoments(residual, mask);
        return varR > 0 ? 1 - varE / varR : double.NaN;
    }

    /// <summary>SHA-256 of a model's parameters (hex): identifies the frozen reference across a resume.</summary>
    public static string ParameterHash(GptModel model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var t in model.Parameters.Tensors)
        {
            var values = new float[t.Length];
            model.Backend.Download<float>(t, values);
            sha.AppendData(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _collector.Dispose();
        _loss.Dispose();
        _gae.Dispose();
        _loop.Dispose();
        _acts.Dispose();
    }
}
