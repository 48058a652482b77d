using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.BestOfN;
using RlhfCore.Training.Overopt;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;
using RlhfCore.Training.Reward;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf overopt</c>: the over-optimization study of Gao et al. (2022) on a built-in gold task. Samples
/// N completions per prompt from the policy, scores them with the proxy (a reward model or an ensemble,
/// combined by --reward-aggregate) and the gold reward, and for n = 1, 2, 4, …, N takes the proxy's best of
/// the first n: KL analytic (log n − (n−1)/n) and estimated from the samples, proxy and gold of the choice.
/// RL points come from pipeline curve.csv files (--rl-curves). Fits R_bon(d) = d(α − βd) and
/// R_RL(d) = d(α − β log d) with d = √KL, and writes overopt.json, overopt.csv and overopt.svg.
/// </summary>
internal static class OveroptCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<OveroptOptions>(new Command("overopt", "Over-optimization study: best-of-n and RL points of gold vs proxy reward against KL, with Gao et al.'s fits"), o => o.Validate(), Run);
    }

    private static int Run(OveroptOptions o)
    {
        o.Aggregation.ValidateFor(EnsembleManifest.MemberFiles(o.RewardModel!).Count, $"--reward-model {o.RewardModel}");
        var rl = o.RlCurves.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).SelectMany(OveroptStudy.ReadCurve).ToList();
        var task = o.GoldTask();
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        var tokenizer = ByteTokenizer.Instance;
        using var policy = ModelFiles.Load(o.Policy!, backend);
        using var ensemble = RewardEnsemble.Load(o.RewardModel!, backend);
        var prompts = GoldEvaluation.Prompts(task, o.NumPrompts, o.Seed);
        int maxPrompt = prompts.Max(p => tokenizer.Encode(p).Length);
        int maxNew = o.MaxNewTokens > 0 ? o.MaxNewTokens : task.MaxCompletionChars + 1;
        if (maxPrompt + maxNew > policy.Config.MaxSeqLen)
            throw new ArgumentException($"prompts of {maxPrompt} tokens + --max-new-tokens {maxNew} exceed the policy's context of {policy.Config.MaxSeqLen}");
        int seqLen = Math.Min(maxPrompt + maxNew, ensemble.Members[0].Config.MaxSeqLen);
        using var scorer = new RewardModelScorer(ensemble.Members, o.Aggregation, tokenizer, o.Batch, seqLen, ensemble.SharedTrunk);
        using var sampler = new BestOfNSampler(policy, tokenizer, scorer, o.Batch, maxPrompt);
        var ns = o.Ns();
        int N = ns[^1];
        AnsiConsole.MarkupLineInterpolated($"[bold]overopt[/] {o.Task}: {prompts.Length} prompts × {N} samples, proxy {scorer.Name}, {rl.Count} RL points, {backend.DeviceDescription}");
        var result = sampler.Sample(prompts, N, new SamplingOptions(maxNew, o.Temperature, 0, 1f, tokenizer.EndOfText), new Rng(o.Seed));
        var points = OveroptStudy.BestOfNPoints(result, task, ns);
        points.AddRange(rl);
        var fits = OveroptStudy.Fit(points);
        OveroptStudy.Write(o.OutDir, points, fits, scorer.Name);

        var table = new Table().AddColumns("n", "KL analytic", "KL estimated", "proxy", "gold");
        foreach (var p in points.Where(p => p.Source == "bon"))
            table.AddRow($"{p.N}", $"{p.KlAnalytic:F3}", $"{p.Kl:F3}", $"{p.Proxy:F4}", $"{p.Gold:F4}");
        AnsiConsole.Write(table);
        var fitTable = new Table().AddColumns("fit", "α", "β", "peak KL", "peak gain", "rmse", "points");
        void Row(string name, GaoCurve? c)
        {
            if (c is null) return;
            fitTable.AddRow(name, $"{c.Alpha:F4}", $"{c.Beta:F4}", double.IsNaN(c.PeakKl) ? "no peak (β ≤ 0)" : $"{c.PeakKl:F3}",
                double.IsNaN(c.PeakReward) ? "-" : $"{c.PeakReward:F4}", $"{c.Rmse:F4}", $"{c.Points}");
        }
        Row("best-of-n gold", fits.BonGold);
        Row("best-of-n proxy", fits.BonProxy);
        Row("RL gold", fits.RlGold);
        Row("RL proxy", fits.RlProxy);
        AnsiConsole.Write(fitTable);
        AnsiConsole.MarkupLineInterpolated($"rewards are fitted relative to best-of-1; wrote {Path.Combine(o.OutDir, "overopt.json")}, overopt.csv, overopt.svg");
        return 0;
    }
}
