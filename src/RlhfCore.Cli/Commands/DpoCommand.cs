using System.CommandLine;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf dpo</c>: direct preference optimization (DPO or IPO, or the reference-free ORPO and SimPO) from an SFT
/// checkpoint. Every flag is a field of <see cref="DpoOptions"/>. The frozen reference (DPO, IPO) is copied to
/// OUT/reference.safetensors at the start, so a resumed run uses exactly the same one; ORPO and SimPO load and write none. Writes config.json, metrics.jsonl/.csv (TRL's names), loss.svg,
/// rewards.svg, model.safetensors and resumable checkpoints; Ctrl-C or SIGTERM saves a checkpoint; --resume continues exactly.
/// </summary>
internal static class DpoCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<DpoOptions>(new Command("dpo", "Direct preference optimization (DPO / IPO / ORPO / SimPO) on {\"prompt\",\"chosen\",\"rejected\"} pairs, from an SFT checkpoint"), o => o.Validate(), Run);
    }

    private static int Run(DpoOptions o)
    {
        using var run = TrainingRun.Open(o, "dpo");
        var tokenizer = run.Tokenizer();
        string referenceCopy = Path.Combine(o.OutDir, "reference.safetensors");
        string? resumeDir = run.ResumeDirectory;
        if (resumeDir == null && o.InitFrom == null) throw new ArgumentException("--init-from is required: DPO starts from an SFT checkpoint");
        if (!o.NeedsReference && o.Reference != null) throw new ArgumentException($"--reference: the {o.Loss} loss has no reference model");
        if (o.NeedsReference && resumeDir != null && !File.Exists(referenceCopy)) throw new FileNotFoundException($"--resume: the run's reference model {referenceCopy} is missing", referenceCopy);

        // TR-DPO moves the reference: each checkpoint holds the reference of its step, and a resume continues from that one.
        string? movedReference = resumeDir != null && o.RefSyncEvery > 0 ? Path.Combine(resumeDir, "reference.safetensors") : null;
        using var reference = o.NeedsReference ? ModelFiles.Load(movedReference ?? (resumeDir != null ? referenceCopy : o.Reference ?? o.InitFrom!), run.Backend) : null;
        using var policy = run.LoadModel(fresh: null);
        run.RequireVocabulary(tokenizer, policy, preset: null);
        var data = DpoData.Build(o, tokenizer, policy.Config.VocabSize);
        using var trainer = new DpoTrainer(policy, reference, data.Train, data.Eval, o);
        run.Begin(policy, trainer.Optimizer, trainer.RestoreState, new
        {
            dpo = o,
            optimizerRules = trainer.Optimizer.Rules,
            model = policy.Config,
            parameters = policy.ParameterCount,
            tokenizer = tokenizer.Name,
            device = run.Backend.DeviceDescription,
            trainPairs = data.Train.Count,
            evalPairs = data.Eval.Count,
        }, $"[bold]dpo[/] ({o.Loss}, β {o.Beta}) {policy.ParameterCount:N0} parameters, {data.Train.Count:N0} training pairs, {data.Eval.Count:N0} held out, {run.Backend.DeviceDescription}",
            () => trainer.StepsDone);
        // The frozen reference is copied into the run, so a resumed run uses exactly the same one.
        if (resumeDir == null && reference != null) Gpt2Checkpoint.Save(referenceCopy, reference.Config, reference.Heads, reference.Parameters);

        string Checkpoint() => run.Folder.Checkpoints.Save(policy, trainer.Optimizer, trainer.CaptureState(), o.RefSyncEvery > 0
            ? dir => Gpt2Checkpoint.Save(Path.Combine(dir, "reference.safetensors"), reference!.Config, reference.Heads, reference.Parameters)
            : null);
        if (run.Train(() => trainer.StepsDone, (cancel, metrics, report) => trainer.Run(cancel, step =>
        {
            var row = step.Train.ToDictionary();
            row["lr"] = step.Lr;
            row["grad_norm"] = step.GradNorm;
            row["skipped"] = step.Skipped ? 1 : 0;
            row["pairs_per_second"] = step.PairsPerSecond;
            if (step.Eval != null) foreach (var (k, v) in step.Eval.ToDictionary("eval_")) row[k] = v;
            metrics.Log(step.Step, row);
            report(step.Step + 1, $"loss {step.Train.Loss:F4} margin {step.Train.RewardsMargin:F3} acc {step.Train.RewardsAccuracy:P0}"
                + (step.Eval is { } e ? $"  eval loss {e.Loss:F4} acc {e.RewardsAccuracy:P0}" : "")
                + (step.Skipped ? "  [yellow]skipped: non-finite[/]" : ""));
        }, _ => Checkpoint()), Checkpoint) is int interrupted) return interrupted;

        string modelPath = run.SaveModel(policy);
        WriteCharts(o.OutDir, run.Metrics);
        run.ReportSaved(modelPath, trainer.StepsSkipped);
        if (o.Data == "builtin:arithmetic") CompareGreedyAccuracy(reference, policy, tokenizer, o.Seed);
        return 0;
    }

    private static void WriteCharts(string outDir, MetricsLog metrics)
    {
        IEnumerable<ChartSeries> Series(params (string Label, string Key)[] keys) =>
            keys.Where(k => metrics.Columns.Contains(k.Key)).Select(k => new ChartSeries(k.Label, metrics.Series(k.Key)));
        SvgChart.Write(Path.Combine(outDir, "loss.svg"), "DPO loss", "step", "loss",
            Series(("train", "loss"), ("held out", "eval_loss")).ToList());
        SvgChart.Write(Path.Combine(outDir, "rewards.svg"), "Implicit rewards", "step", "reward",
            Series(("chosen", "rewards/chosen"), ("rejected", "rewards/rejected"), ("margin", "rewards/margins"),
                ("held-out margin", "eval_rewards/margins")).ToList());
    }

    /// <summary>Greedy exact-answer accuracy of the reference (SFT) and the DPO policy on the same fresh problems.</summary>
    private static void CompareGreedyAccuracy(GptModel? reference, GptModel policy, ITokenizer tokenizer, ulong seed)
    {
        const int count = 200, batch = 50;
        var rng = new Rng(seed ^ 0x5EED);
        var task = new ArithmeticTask();
        var prompts = Enumerable.Range(0, count).Select(_ => task.SamplePrompt(rng)).ToArray();
        double Accuracy(GptModel model)
        {
            using var gen = new GptGenerator(model, batch, prompts.Max(p => tokenizer.Encode(p).Length));
            double correct = 0;
            for (int start = 0; start < count; start += batch)
            {
                var slice = prompts[start..Math.Min(count, start + batch)];
                var outputs = gen.Generate(slice.Select(tokenizer.Encode).ToArray(), new SamplingOptions(6, Temperature: 0, EosToken: tokenizer.EndOfText), rng);
                for (int i = 0; i < slice.Length; i++)
                    correct += ArithmeticTask.GoldReward(slice[i], tokenizer.Decode(outputs[i].Tokens.Where(t => t != tokenizer.EndOfText).ToArray()));
            }
            return correct / count;
        }
        var table = new Table().AddColumns("model", $"greedy accuracy on {count} fresh problems");
        // ORPO and SimPO load no reference, so there is no SFT row to compare with.
        if (reference != null) table.AddRow("reference (SFT)", $"{Accuracy(reference):P1}");
        table.AddRow("DPO policy", $"{Accuracy(policy):P1}");
        AnsiConsole.Write(table);
    }
}
