using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Training;
using Spectre.Console;

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
        using var run = RunFolder.Open(o.OutDir, "sft", o.Resume, o.Overwrite);
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        // A token shard is already ids: it needs no tokenizer, only a model whose vocabulary covers them (checked by the batcher).
        var tokenizer = SftData.IsTokenShard(o.Data) ? null : TokenizerFactory.Create(o.Tokenizer, o.TokenizerDir);
        string? resumeDir = run.ResumeDirectory;
        using var model = resumeDir != null ? ModelFiles.Load(Path.Combine(resumeDir, "model.safetensors"), backend)
            : o.InitFrom != null ? ModelFiles.Load(o.InitFrom, backend)
            : NewModel(backend, o);
        if (tokenizer != null)
            VocabularyMatch.Require(tokenizer, model.Config.VocabSize, resumeDir != null ? $"checkpoint {resumeDir}" : o.InitFrom != null ? $"--init-from {o.InitFrom}" : $"--model {o.Model}");

        var data = SftData.Build(o, tokenizer, model.Config.MaxSeqLen, model.Config.VocabSize);
        using var trainer = new SftTrainer(model, data.Train, data.Eval, o);
        if (resumeDir != null) trainer.RestoreState(run.Checkpoints.Load(model, trainer.Optimizer));
        using var telemetry = o.TelemetryEvery > 0 ? new TelemetryFiles(o.OutDir, trainer.Optimizer.Step) : null;
        if (telemetry != null) trainer.Optimizer.AttachTelemetry(o.TelemetryEvery, telemetry);

        RunFiles.ReportClaim(run);
        RunFiles.WriteConfig(run, new
        {
            sft = o,
            optimizerRules = trainer.Optimizer.Rules,
            model = model.Config,
            heads = model.Heads.ToString(),
            parameters = model.ParameterCount,
            tokenizer = tokenizer?.Name ?? "none (token shard)",
            device = backend.DeviceDescription,
            trainExamples = data.TrainExamples,
        });
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]sft[/] {model.ParameterCount:N0} parameters ({model.Config.NumLayers} layers, {model.Config.NumHeads} heads, width {model.Config.Channels}), {data.TrainExamples:N0} training examples, {backend.DeviceDescription}");
        if (resumeDir != null) AnsiConsole.MarkupLineInterpolated($"resuming from {resumeDir} at step {trainer.StepsDone}");

        using var metrics = RunFiles.OpenMetrics(run, trainer.StepsDone);
        using var cancel = new StopSignals();
        TrainingProgress.Run(o.Steps, trainer.StepsDone, report =>
        {
            trainer.Run(cancel.Token, step =>
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
            }, t => run.Checkpoints.Save(model, t.Optimizer, t.CaptureState()));
        });
        telemetry?.WriteHeatmaps();
        if (cancel.StoppedEarly(trainer.StepsDone, o.Steps))
            return cancel.ReportSaved(trainer.StepsDone, run.Checkpoints.Save(model, trainer.Optimizer, trainer.CaptureState()));

        string modelPath = Path.Combine(o.OutDir, "model.safetensors");
        Gpt2Checkpoint.Save(modelPath, model.Config, model.Heads, model.Parameters);
        Gpt2Checkpoint.WriteHfConfig(Path.Combine(o.OutDir, "hf_config.json"), model.Config);
        var series = new List<ChartSeries> { new("train loss", metrics.Series("loss")) };
        if (metrics.Columns.Contains("eval/loss")) series.Add(new("eval loss", metrics.Series("eval/loss")));
        SvgChart.Write(Path.Combine(o.OutDir, "loss.svg"), "SFT loss", "step", "cross-entropy (nats/token)", series);
        AnsiConsole.MarkupLineInterpolated($"saved {modelPath}; {trainer.StepsSkipped} steps skipped for non-finite values; metrics in {metrics.JsonlPath}");
        if (o.Data.StartsWith("builtin:", StringComparison.Ordinal)) ShowGoldSamples(GoldTasks.Create(o.Data), model, tokenizer!, o.Seed);
        return 0;
    }

    private static GptModel NewModel(IBackend backend, SftOptions o)
    {
        var model = new GptModel(backend, GptConfig.Preset(o.Model));
        model.InitializeWeights(o.Seed);
        return model;
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
