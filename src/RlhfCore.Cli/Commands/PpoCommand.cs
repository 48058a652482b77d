using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf ppo</c>: RL fine-tuning against a reward model or the built-in gold reward, with PPO, A2C,
/// REINFORCE, RLOO, GRPO or REINFORCE++ (<c>--method</c>). Every flag is a field of <see cref="PpoOptions"/>. Writes
/// config.json, metrics.jsonl/.csv (TRL's metric names), reward.svg, kl.svg, model.safetensors (policy with
/// value head) and resumable checkpoints to --out-dir; Ctrl-C or SIGTERM finishes the current rollout step, saves a
/// checkpoint and exits; --resume continues exactly. --reward-model takes one model or an ensemble folder
/// (combined by --reward-aggregate); on arithmetic prompts the gold reward is logged beside it, and the
/// reward-hacking monitor warns (and with --stop-on-hacking stops) when the proxy rises while gold falls
/// or the ensemble's disagreement rises.
/// </summary>
internal static class PpoCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<PpoOptions>(new Command("ppo", "RL fine-tuning with a KL penalty to a reference: PPO, A2C, REINFORCE, RLOO, GRPO or REINFORCE++"), o => o.Validate(), Run);
    }

    private static int Run(PpoOptions o)
    {
        var method = o.Resolve();
        if (o.Reward == "gold" && o.Prompts != PromptSource.Arithmetic)
            throw new ArgumentException($"--reward gold needs --prompts {PromptSource.Arithmetic} (the gold reward is the task's exact correctness)");
        if (o.Reward == "model" && o.RewardModel == null) throw new ArgumentException("--reward model needs --reward-model PATH (or use --reward gold)");
        if (o.ValueHead == ValueHeadInit.RewardModel && o.RewardModel == null) throw new ArgumentException("--value-head RewardModel needs --reward-model PATH");

        if (o.Reward == "model") o.Aggregation.ValidateFor(EnsembleManifest.MemberFiles(o.RewardModel!).Count, $"--reward-model {o.RewardModel}");
        using var run = TrainingRun.Open(o, "ppo");
        var backend = run.Backend;
        var tokenizer = run.Tokenizer();
        var prompts = PromptSource.Load(o.Prompts, o.PromptPool, o.Seed, o.MaxLineBytes);
        string? resumeDir = run.ResumeDirectory;
        var heads = method.UsesValueHead ? ModelHeads.Value : ModelHeads.None;

        // Same seed for policy and reference: the trunk is initialized first, so two fresh trunks are identical.
        using var policy = run.LoadModel(() => run.FreshModel(o.Model, heads), heads);
        string? referencePath = o.Reference ?? o.InitFrom;
        using var reference = referencePath != null ? ModelFiles.Load(referencePath, backend) : run.FreshModel(o.Model);
        using var rewardModel = o.RewardModel != null ? RewardEnsemble.Load(o.RewardModel, backend) : null;
        run.RequireVocabulary(tokenizer, policy, o.Model);
        if (rewardModel != null) VocabularyMatch.Require(tokenizer, rewardModel.Members[0].Config.VocabSize, $"--reward-model {o.RewardModel}");
        // An ensemble's value head starts from its first member's score head.
        if (o.ValueHead == ValueHeadInit.RewardModel && resumeDir == null && method.UsesValueHead) ValueHead.CopyFromRewardHead(policy, rewardModel!.Members[0]);

        int maxTokens = prompts.Max(p => tokenizer.Encode(p).Length) + o.MaxNewTokens;
        using var scorer = o.Reward == "model"
            ? new RewardModelScorer(rewardModel!.Members, o.Aggregation, tokenizer, o.MiniBatch, Math.Min(maxTokens, rewardModel.Members[0].Config.MaxSeqLen), rewardModel.SharedTrunk) : null;
        IRewardFunction reward = scorer != null ? scorer : new FunctionReward(ArithmeticTask.GoldReward);
        // The arithmetic prompts have a gold reward: logged beside the proxy for the reward-hacking monitor.
        var gold = o.Prompts == PromptSource.Arithmetic ? new FunctionReward(ArithmeticTask.GoldReward) : null;

        using var trainer = new PpoTrainer(policy, reference, reward, tokenizer, prompts, o, gold);
        if (resumeDir != null) PpoCheckpoint.Load(run.Folder.Checkpoints, policy, trainer);
        run.RecordTelemetry(trainer.Optimizer);
        run.BeginClaimed(new
        {
            ppo = o,
            optimizerRules = trainer.Optimizer.Rules,
            resolved = method,
            model = policy.Config,
            heads = policy.Heads.ToString(),
            parameters = policy.ParameterCount,
            reference = referencePath ?? "the fresh policy's initial weights",
            tokenizer = tokenizer.Name,
            device = backend.DeviceDescription,
            prompts = prompts.Count,
        }, $"[bold]{o.Method.ToString().ToLowerInvariant()}[/] {policy.ParameterCount:N0} parameters, {prompts.Count:N0} prompts, {o.RolloutSize} sequences per rollout, reward: {(o.Reward == "gold" ? "gold" : $"{o.RewardModel} ({rewardModel!.Count} member(s), {o.RewardAggregate})")}, {backend.DeviceDescription}",
            () => trainer.StepsDone);

        PpoStepReport? last = null;
        string Checkpoint() => PpoCheckpoint.Save(run.Folder.Checkpoints, policy, trainer);
        if (run.Train(() => trainer.StepsDone, (cancel, metrics, report) => trainer.Run(cancel, step =>
        {
            last = step;
            metrics.Log(step.Step, step.Metrics);
            var m = step.Metrics;
            report(step.Step + 1, $"score {m["objective/scores"]:F3}  kl {m["objective/kl"]:F3}  β {m["objective/kl_coef"]:G3}"
                + (m.TryGetValue("reward/gold", out var g) ? $"  gold {g:F3}" : "")
                + (m.TryGetValue("reward/disagreement", out var dis) ? $"  disagreement {dis:F3}" : "")
                + (step.SkippedMinibatches > 0 ? $"  [yellow]{step.SkippedMinibatches} minibatches skipped: non-finite[/]" : ""));
            if (step.HackingWarning != null) AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] {step.HackingWarning}");
        }, _ => Checkpoint()), Checkpoint) is int interrupted) return interrupted;

        if (trainer.StoppedForHacking)
            AnsiConsole.MarkupLineInterpolated($"[yellow]stopped early at step {trainer.StepsDone} of {o.Steps}[/] (--stop-on-hacking); the policy is saved as it was then");
        string modelPath = run.SaveModel(policy);
        var metrics = run.Metrics;
        SvgChart.Write(Path.Combine(o.OutDir, "reward.svg"), $"{o.Method} reward", "rollout step", "mean per sequence",
            [new("score", Finite(metrics.Series("objective/scores"))), new("score − β·KL", Finite(metrics.Series("objective/rlhf_reward")))]);
        SvgChart.Write(Path.Combine(o.OutDir, "kl.svg"), "KL to the reference", "rollout step", "nats per sequence",
            [new("KL", Finite(metrics.Series("objective/kl")))]);
        run.ReportSaved(modelPath, trainer.SkippedMinibatches, "minibatches");
        if (last != null) ShowSamples(last);
        return 0;
    }

    private static List<(double X, double Y)> Finite(IReadOnlyList<(double X, double Y)> points) => points.Where(p => double.IsFinite(p.Y)).ToList();

    private static void ShowSamples(PpoStepReport report)
    {
        var table = new Table().AddColumns("prompt", "response", "score", "EOS");
        var r = report.Rollout;
        for (int i = 0; i < Math.Min(8, r.B); i++)
            table.AddRow(Markup.Escape(r.PromptTexts[i]), Markup.Escape(r.ResponseTexts[i]), report.Scores[i].ToString("F3"), r.StoppedAtEos[i] ? "yes" : "no");
        AnsiConsole.Write(table);
    }
}
