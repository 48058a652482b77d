using System.CommandLine;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;
using Spectre.Console;
using RlhfCore.Training.Sft;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf sft</c>: supervised fine-tuning. Every flag is a field of <see cref="SftOptions"/>. Writes
/// config.json, metrics.jsonl/.csv, loss.svg, model.safetensors and resumable checkpoints to --out-dir;
/// Ctrl-C or SIGTERM finishes the current step, saves a checkpoint and exits (130 or 143); --resume continues exactly;
/// a fresh run refuses an --out-dir holding an earlier run unless --overwrite moves it aside.
/// </summary>
internal static class SftCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<SftOptions>(new Command("sft", "Supervised fine-tuning (next-token loss; completion-only for prompt/completion data)"), o => o.Validate(), Run);
    }

    private static int Run(SftOptions o)
    {
        using var run = TrainingRun.Open(o, "sft");
        // A token shard is already ids: it needs no tokenizer, only a model whose vocabulary covers them (checked by the batcher).
        var tokenizer = SftData.IsTokenShard(o.Data) ? null : run.Tokenizer();
        using var model = run.LoadModel(() => run.FreshModel(o.Model));
        if (tokenizer != null) run.RequireVocabulary(tokenizer, model, o.Model);

        var data = SftData.Build(o, tokenizer, model.Config.MaxSeqLen, model.Config.VocabSize);
        using var trainer = new SftTrainer(model, data.Train, data.Eval, o);
        run.Begin(model, trainer.Optimizer, trainer.RestoreState, new
        {
            sft = o,
            optimizerRules = trainer.Optimizer.Rules,
            model = model.Config,
            heads = model.Heads.ToString(),
            parameters = model.ParameterCount,
            tokenizer = tokenizer?.Name ?? "none (token shard)",
            device = run.Backend.DeviceDescription,
            trainExamples = data.TrainExamples,
        }, $"[bold]sft[/] {model.ParameterCount:N0} parameters ({model.Config.NumLayers} layers, {model.Config.NumHeads} heads, width {model.Config.Channels}), {data.TrainExamples:N0} training examples, {run.Backend.DeviceDescription}",
            () => trainer.StepsDone);

        string Checkpoint() => run.Folder.Checkpoints.Save(model, trainer.Optimizer, trainer.CaptureState());
        if (run.Train(() => trainer.StepsDone, (cancel, metrics, report) => trainer.Run(cancel, step =>
        {
            var row = new Dictionary<string, double>
            {
                ["loss"] = step.Loss, ["lr"] = step.Lr, ["grad_norm"] = step.GradNorm,
                ["tokens_per_second"] = step.TokensPerSecond, ["skipped"] = step.Skipped ? 1 : 0,
            };
            if (step.EvalLoss is double ev) row["eval/loss"] = ev;
            metrics.Log(step.Step, row);
            report(step.Step + 1, $"loss {step.Loss:F4}" + (step.EvalLoss is double e2 ? $" eval {e2:F4}" : "") + $"  {step.TokensPerSecond:F0} tok/s"
                + (step.Skipped ? "  [yellow]skipped: non-finite[/]" : ""));
        }, _ => Checkpoint()), Checkpoint) is int interrupted) return interrupted;

        string modelPath = run.SaveModel(model);
        var series = new List<ChartSeries> { new("train loss", run.Metrics.Series("loss")) };
        if (run.Metrics.Columns.Contains("eval/loss")) series.Add(new("eval loss", run.Metrics.Series("eval/loss")));
        SvgChart.Write(Path.Combine(o.OutDir, "loss.svg"), "SFT loss", "step", "cross-entropy (nats/token)", series);
        run.ReportSaved(modelPath, trainer.StepsSkipped);
        if (o.Data.StartsWith("builtin:", StringComparison.Ordinal)) ShowGoldSamples(GoldTasks.Create(o.Data), model, tokenizer!, o.Seed);
        return 0;
    }

    /// <summary>Greedy completions of fresh prompts from the task, scored by its gold reward.</summary>
    private static void ShowGoldSamples(IGoldTask task, GptModel model, ITokenizer tokenizer, ulong seed)
    {
        var eval = GoldEvaluation.Run(task, model, tokenizer, GoldEvaluation.Prompts(task, 200, seed));
        var table = new Table().AddColumns("prompt", "model's completion", "gold reward");
        for (int i = 0; i < 8; i++) table.AddRow(Markup.Escape(eval.Prompts[i]), Markup.Escape(eval.Completions[i]), $"{eval.Gold[i]:F2}");
        AnsiConsole.Write(table);
        string accuracy = task.Name == "arithmetic" ? $" (= accuracy {eval.MeanGold:P1})" : "";
        AnsiConsole.MarkupLineInterpolated($"mean gold reward of greedy completions on {eval.Prompts.Count} fresh {task.Name} prompts: [bold]{eval.MeanGold:F3}[/]{accuracy}");
    }
}
