using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training.BestOfN;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;
using RlhfCore.Training.Sft;

namespace RlhfCore.Training.Pipeline;

/// <summary>
/// <c>--method RejectionSampling</c> (Llama 2's rejection-sampling fine-tuning, RAFT, expert iteration): each round the
/// previous round's policy samples --best-of-n completions for each of --rejection-prompts prompts at temperature 1, the
/// round's reward model (the ensemble's --reward-aggregate; the gold reward with --optimize-gold) keeps each prompt's best,
/// and the policy is fine-tuned on the winners for --rejection-steps SFT steps at --rejection-lr. The winners are
/// written to policy/best-of-n.jsonl (TRL's prompt/completion lines), so the stage can be rerun by hand with <c>rlhf sft</c>.
/// </summary>
public sealed partial class RlhfPipeline
{
    private List<CurvePoint> TrainRejectionSampling(int r, string rewardModelPath, string dir, CancellationToken cancel)
    {
        // One load of the previous policy: it samples the candidates, then learns the winners.
        using var policy = ModelFiles.Load(PolicyModel(r - 1), _be);
        var best = SampleBestOfN(r, policy, rewardModelPath);
        var winners = RejectionSamplingSet.Winners(best, _tok);
        if (winners.Count < best.Prompts.Count)
            _log($"round {r}: {best.Prompts.Count - winners.Count} of {best.Prompts.Count} prompts left out: the best completion is not valid UTF-8 text");
        if (winners.Count == 0) throw new InvalidOperationException($"round {r}: no prompt's best completion is valid text, so rejection sampling has nothing to learn");
        RejectionSamplingSet.Write(Path.Combine(dir, "best-of-n.jsonl"), winners);
        double goldSingle = best.Prompts.SelectMany(p => p.Samples).Average(c => _task.GoldReward(c.Prompt, c.Text));
        double goldBest = best.Prompts.Average(p => _task.GoldReward(p.Prompt, p.Best.Text));
        _log($"round {r}: best of {_o.BestOfN} by {best.Scorer}: mean score {best.MeanSampleScore:F3} → {best.MeanBestScore:F3}, gold {goldSingle:F3} → {goldBest:F3} on {best.Prompts.Count} prompts");

        var records = winners.Select((w, i) => new SftRecord(w.Prompt, w.Completion, IsPlainText: false, "best-of-n.jsonl", i + 1)).ToList();
        var o = new SftOptions
        {
            Data = Path.Combine(dir, "best-of-n.jsonl"), Batch = _o.Batch, SeqLen = _o.SeqLen, Steps = _o.RejectionSteps, Lr = _o.RejectionLr,
            Warmup = Math.Min(10, _o.RejectionSteps / 10), EvalFraction = 0, EvalEvery = 0, CheckpointEvery = 0, Seed = Seed(r, 31), OutDir = dir,
        };
        WriteStageConfig(dir, o);
        var data = SftData.FromRecords(records, o, _tok, policy.Config.MaxSeqLen, policy.Config.VocabSize);
        using var trainer = new SftTrainer(policy, data.Train, data.Eval, o);
        trainer.Run(cancel, s =>
        {
            if ((s.Step + 1) % Math.Max(1, o.Steps / 5) == 0) _log($"round {r}: rejection-sampling sft step {s.Step + 1}/{o.Steps}  loss {s.Loss:F4}");
        }, _ => { });
        if (!cancel.IsCancellationRequested) Gpt2Checkpoint.Save(PolicyModel(r), policy.Config, policy.Heads, policy.Parameters);
        return [];
    }

    /// <summary>--best-of-n samples of each of --rejection-prompts fresh task prompts from <paramref name="policy"/>, scored by the round's reward model (or the gold reward).</summary>
    private BestOfNResult SampleBestOfN(int r, GptModel policy, string rewardModelPath)
    {
        var rng = new Rng(Seed(r, 30));
        var prompts = Enumerable.Range(0, _o.RejectionPrompts).Select(_ => _task.SamplePrompt(rng)).ToArray();
        int maxPrompt = prompts.Max(p => _tok.Encode(p).Length);
        using var rewardModel = _o.OptimizeGold ? null : RewardEnsemble.Load(rewardModelPath, _be);
        using var scorer = rewardModel is null ? null : new RewardModelScorer(rewardModel.Members, _o.Aggregation, _tok, 64, _o.SeqLen, rewardModel.SharedTrunk);
        IRewardFunction reward = scorer is null ? new FunctionReward(_task.GoldReward, $"gold:{_task.Name}") : scorer;
        using var sampler = new BestOfNSampler(policy, _tok, reward, 256, maxPrompt);
        var sampling = new SamplingOptions(_task.MaxCompletionChars + 1, 1f, EosToken: _tok.EndOfText);
        return sampler.Sample(prompts, _o.BestOfN, sampling, rng);
    }
}
