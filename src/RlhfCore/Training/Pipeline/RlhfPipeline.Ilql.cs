using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training.Ilql;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Pipeline;

/// <summary>
/// <c>--method Ilql</c>: each round, the completions the feedback stage already sampled from the current policy (K per prompt,
/// for the comparisons) are labelled with the round's reward model, its score being the reward (the gold reward with
/// --optimize-gold), standardized over the round's samples, and ILQL trains the previous round's policy on them offline for --policy-steps. The round's policy is
/// then that trunk and LM head (policy/model.safetensors) decoded with its heads (policy/ilql_heads.safetensors): the
/// round's evaluation, its KL to SFT, the reward model's post-RL (shift) samples and the next round's samples all use ILQL decoding with --ilql-beta.
/// </summary>
public sealed partial class RlhfPipeline
{
    private string IlqlHeadsPath(int r) => Path.Combine(RoundDir(r), "policy", IlqlHeadsFile.FileName);

    /// <summary>Labels the round's samples, trains ILQL from the previous policy, saves the policy and heads; returns no curve (ILQL has no rollouts: the round's evaluation measures its KL to SFT on ILQL-decoded samples).</summary>
    private List<CurvePoint> TrainIlql(int r, string rewardModelPath, string dir, CancellationToken cancel)
    {
        var examples = IlqlExamples(r, rewardModelPath, dir);
        using var policy = ModelFiles.Load(PolicyModel(r - 1), _be);
        var o = new IlqlOptions
        {
            Steps = _o.PolicySteps, Lr = _o.PolicyLr, Warmup = Math.Min(10, _o.PolicySteps / 10), Batch = _o.Batch, SeqLen = _o.SeqLen,
            EvalFraction = 0, EvalEvery = 0, CheckpointEvery = 0, Seed = Seed(r, 20), OutDir = dir,
            // --policy-steps (80 by default) is far fewer steps than trlx trains for: its α = 0.001 every 5 steps would leave the
            // target heads at 98% of their random start, and decoding reads the targets. Every step at α = 0.1 leaves 0.02%.
            Alpha = 0.1, TargetSyncEvery = 1,
        };
        var sequences = examples.Select(e => IlqlSequence.From(e, _tok, o.SeqLen, policy.Config.VocabSize)).ToList();
        using var trainer = new IlqlTrainer(policy, sequences, null, o);
        trainer.Run(cancel, s =>
        {
            if ((s.Step + 1) % Math.Max(1, o.Steps / 5) == 0)
                _log($"round {r}: ilql step {s.Step + 1}/{o.Steps}  loss {s.Train.Loss:F4}  q {s.Train.LossQ:F4}  v {s.Train.LossV:F4}  awac {s.Train.LossAwac:F4}");
        }, _ => { });
        if (cancel.IsCancellationRequested) return [];
        IlqlHeadsFile.Save(IlqlHeadsPath(r), trainer.Heads, _be);
        Gpt2Checkpoint.Save(PolicyModel(r), policy.Config, policy.Heads, policy.Parameters);
        return [];
    }

    /// <summary>The round's comparison samples (every completion of every prompt) with their standardized rewards, also written to policy/ilql-ratings.jsonl.</summary>
    private List<IlqlExample> IlqlExamples(int r, string rewardModelPath, string dir)
    {
        var items = _o.CompletionsPerPrompt == 2
            ? Comparisons(r).SelectMany(c => new[] { (c.Prompt, c.A), (c.Prompt, c.B) })
            : KwiseComparisons(r).SelectMany(k => k.Completions.Select(c => (k.Prompt, c)));
        var (prompts, completions) = (items.Select(x => x.Item1).ToArray(), items.Select(x => x.Item2).ToArray());
        double[] rewards;
        if (_o.OptimizeGold) rewards = [.. prompts.Zip(completions, _task.GoldReward)];
        else
        {
            using var rewardModel = RewardEnsemble.Load(rewardModelPath, _be);
            using var scorer = new RewardModelScorer(rewardModel.Members, _o.Aggregation, _tok, 64, _o.SeqLen, rewardModel.SharedTrunk);
            rewards = scorer.Score(prompts, completions);
        }
        Standardize(rewards);
        string file = Path.Combine(dir, "ilql-ratings.jsonl");
        AtomicFile.Write(file, s =>
        {
            for (int i = 0; i < prompts.Length; i++)
                s.Write(JsonLine.Build(w =>
                {
                    w.WriteString("prompt", prompts[i]);
                    w.WriteString("completion", completions[i]);
                    w.WriteNumber("rating", rewards[i]);
                }));
        });
        _log($"round {r}: {prompts.Length} sampled completions labelled with {(_o.OptimizeGold ? "the gold reward" : "the reward model")} for ILQL ({file})");
        return [.. Enumerable.Range(0, prompts.Length).Select(i => new IlqlExample(prompts[i], completions[i], rewards[i], $"{file} line {i + 1}"))];
    }

    /// <summary>
    /// Rewards to mean 0 and standard deviation 1 over the round's samples (only centred when they are all equal). A
    /// Bradley–Terry reward model's scores have no meaningful offset, but ILQL's decoding does: a token the data never took
    /// keeps a Q near its initial 0, so scores centred below 0 would shift decoding toward such tokens, above 0 away from them.
    /// </summary>
    private static void Standardize(double[] rewards)
    {
        if (rewards.Length == 0) return;
        double mean = rewards.Average(), sd = Math.Sqrt(rewards.Sum(x => (x - mean) * (x - mean)) / rewards.Length);
        for (int i = 0; i < rewards.Length; i++) rewards[i] = sd > 0 ? (rewards[i] - mean) / sd : rewards[i] - mean;
    }

    /// <summary>The ILQL decoding of round <paramref name="round"/>'s policy (null for SFT and for every other method).</summary>
    private IlqlRoundDecoding? IlqlDecodingOf(int round, GptModel policy) =>
        _o.Method == PipelineMethod.Ilql && round > 0 ? new IlqlRoundDecoding(IlqlHeadsPath(round), policy, _o.IlqlBeta) : null;

    /// <summary>A round's ILQL heads, loaded for decoding, and the shaper over them.</summary>
    private sealed class IlqlRoundDecoding : IDisposable
    {
        private readonly IlqlHeads _heads;

        /// <summary>The logits shaper to pass to <see cref="GoldEvaluation.Run"/>.</summary>
        public IlqlLogitsShaper Shaper { get; }

        public IlqlRoundDecoding(string path, GptModel policy, double beta)
        {
            _heads = IlqlHeadsFile.Load(path, policy.Backend, DecodingRows);
            if (_heads.C != policy.Config.Channels || _heads.V != policy.Config.VocabSize)
            {
                _heads.Dispose();
                throw new CheckpointException(path, $"heads of width {_heads.C} and vocabulary {_heads.V} do not fit the policy's {policy.Config.Channels} and {policy.Config.VocabSize}");
            }
            Shaper = new IlqlLogitsShaper(policy.Backend, _heads, beta);
        }

        public void Dispose() => _heads.Dispose();
    }
}
