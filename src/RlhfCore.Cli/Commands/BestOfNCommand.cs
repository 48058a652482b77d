using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training.BestOfN;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;
using RlhfCore.Rl;
using RlhfCore.Training.Reward;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf best-of-n</c>: n samples per prompt from a policy, scored by a reward model (or the arithmetic gold
/// reward), the best kept. Reports the mean score of the best against single samples (and, on arithmetic
/// prompts, the gold accuracy of both), and can write the winners as a rejection-sampling SFT set.
/// </summary>
internal static class BestOfNCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<BestOfNOptions>(new Command("best-of-n", "Best-of-n sampling with a reward model; optionally writes a rejection-sampling set for rlhf sft"), o => o.Validate(), Run);
    }

    private static int Run(BestOfNOptions o)
    {
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        var tokenizer = TokenizerFactory.Create(o.Tokenizer, o.TokenizerDir);
        using var policy = ModelFiles.Load(o.Policy!, backend);
        VocabularyMatch.Require(tokenizer, policy.Config.VocabSize, $"--policy {o.Policy}");
        var prompts = PromptSet.Load(o.Prompts, o.NumPrompts, o.Seed, o.MaxLineBytes);
        bool arithmetic = o.Prompts == "builtin:arithmetic";
        int maxPrompt = prompts.Max(p => p.Length == 0 ? 1 : tokenizer.Encode(p).Length);
        if (maxPrompt >= policy.Config.MaxSeqLen)
            throw new ArgumentException($"a prompt of {maxPrompt} tokens leaves no room to generate in the policy's context of {policy.Config.MaxSeqLen}");

        if (o.RewardModel != null) o.Aggregation.ValidateFor(EnsembleManifest.MemberFiles(o.RewardModel).Count, $"--reward-model {o.RewardModel}");
        using var rewardModel = o.RewardModel != null ? RewardEnsemble.Load(o.RewardModel, backend) : null;
        if (rewardModel == null && !arithmetic)
            throw new ArgumentException("--reward-model is required unless the prompts are builtin:arithmetic (scored by the gold reward)");
        int seqLen = Math.Min(maxPrompt + o.MaxNewTokens, policy.Config.MaxSeqLen);
        using var rmScorer = rewardModel != null ? new RewardModelScorer(rewardModel.Members, o.Aggregation, tokenizer, o.Batch, seqLen, rewardModel.SharedTrunk) : null;
        IRewardFunction scorer = rmScorer ?? (IRewardFunction)FunctionReward.Arithmetic;

        using var sampler = new BestOfNSampler(policy, tokenizer, scorer, o.Batch, maxPrompt);
        var sampling = new SamplingOptions(o.MaxNewTokens, o.Temperature, o.TopK, o.TopP, tokenizer.EndOfText);
        AnsiConsole.MarkupLineInterpolated($"[bold]best-of-{o.N}[/] {prompts.Count:N0} prompts × {o.N} samples, scored by {scorer.Name}, {backend.DeviceDescription}");
        var result = sampler.Sample(prompts, o.N, sampling, new Rng(o.Seed));

        var table = new Table().AddColumns("selection", Markup.Escape($"mean {scorer.Name} score"));
        table.AddRow("single sample", $"{result.MeanSampleScore:F4}");
        for (int k = 2; k < o.N; k *= 2) table.AddRow($"best of {k}", $"{result.MeanBestOfFirst(k):F4}");
        table.AddRow($"best of {o.N}", $"{result.MeanBestScore:F4}");
        AnsiConsole.Write(table);
        if (arithmetic && rmScorer != null)
        {
            // The gold reward of what the reward model picked: where the two disagree is reward misspecification.
            double goldSingle = result.Prompts.SelectMany(p => p.Samples).Average(c => FunctionReward.Arithmetic.Reward(c.Prompt, c.Text));
            double goldBest = result.Prompts.Average(p => FunctionReward.Arithmetic.Reward(p.Prompt, p.Best.Text));
            AnsiConsole.MarkupLineInterpolated($"gold accuracy: single sample {goldSingle:P1}, reward model's best of {o.N} {goldBest:P1}");
        }
        if (o.Output != null)
        {
            var winners = RejectionSamplingSet.Winners(result, tokenizer, o.MinScore);
            RejectionSamplingSet.Write(o.Output, winners);
            AnsiConsole.MarkupLineInterpolated($"wrote {winners.Count:N0} {{prompt, completion}} lines to {o.Output} (train on them with rlhf sft --data {o.Output})");
        }
        return 0;
    }
}
