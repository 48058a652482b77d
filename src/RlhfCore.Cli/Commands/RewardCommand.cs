using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.Reward;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf reward</c>: trains a reward model on human feedback. Every flag is a field of
/// <see cref="RewardOptions"/>. Writes config.json, metrics.jsonl/.csv, reward.svg (loss and accuracy),
/// model.safetensors (with the <c>score</c> head) and resumable checkpoints to --out-dir; Ctrl-C or SIGTERM finishes
/// the current step, saves a checkpoint and exits; --resume continues exactly.
/// </summary>
internal static class RewardCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<RewardOptions>(new Command("reward", "Train a reward model on feedback: pairs (Bradley–Terry), rankings (Plackett–Luce), ratings (regression), approvals (logistic)"), o => o.Validate(), Run);
    }

    private static int Run(RewardOptions o)
    {
        using var run = RunFolder.Open(o.OutDir, "reward", o.Resume, o.Overwrite);
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        var tokenizer = TokenizerFactory.Create(o.Tokenizer, o.TokenizerDir);
        string? resumeDir = run.ResumeDirectory;
        using var model = resumeDir != null ? ModelFiles.Load(Path.Combine(resumeDir, "model.safetensors"), backend)
            : o.InitFrom != null ? ModelFiles.Load(o.InitFrom, backend, ModelHeads.Reward, o.Seed)
            : NewModel(backend, o);
        VocabularyMatch.Require(tokenizer, model.Config.VocabSize, resumeDir != null ? $"checkpoint {resumeDir}" : o.InitFrom != null ? $"--init-from {o.InitFrom}" : $"--model {o.Model}");

        var data = RewardData.Load(o);
        var skipped = new List<string>(data.Skipped);
        List<Data.Feedback.RewardExample> Tokenize(IReadOnlyList<Data.Feedback.FeedbackRecord> records) =>
            Data.Feedback.RewardExamples.Tokenize(records, tokenizer, o.SeqLen, o.Overflow, o.AppendEos, model.Config.VocabSize, skipped);
        var train = Tokenize(data.Train);
        var eval = Tokenize(data.Eval);
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: every training record was skipped");
        foreach (var message in skipped.Take(5)) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {message}");
        if (skipped.Count > 5) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped {skipped.Count - 5} more records[/]");

        using var trainer = new RewardTrainer(model, train, eval, o);
        if (resumeDir != null) trainer.RestoreState(run.Checkpoints.Load(model, trainer.Optimizer));

        RunFiles.ReportClaim(run);
        RunFiles.WriteConfig(run, new
        {
            reward = o,
            kind = data.Kind.ToString(),
            loss = trainer.Loss.ToString(),
            model = model.Config,
            heads = model.Heads.ToString(),
            parameters = model.ParameterCount,
            tokenizer = tokenizer.Name,
            device = backend.DeviceDescription,
            trainRecords = train.Count,
            evalRecords = eval.Count,
            skippedRecords = skipped.Count,
        });
        AnsiConsole.MarkupLineInterpolated(
            $"[bold]reward[/] {trainer.Loss} on {train.Count:N0} {data.Kind.ToString().ToLowerInvariant()} records ({eval.Count:N0} held out), {model.ParameterCount:N0} parameters, {backend.DeviceDescription}");
        if (resumeDir != null) AnsiConsole.MarkupLineInterpolated($"resuming from {resumeDir} at step {trainer.StepsDone}");

        using var metrics = RunFiles.OpenMetrics(run, trainer.StepsDone);
        using var cancel = new StopSignals();
        RewardSummary? lastEval = null;
        TrainingProgress.Run(o.Steps, trainer.StepsDone, report =>
        {
            trainer.Run(cancel.Token, step =>
            {
                var row = step.Train.ToMetrics();
                row["lr"] = step.Lr;
                row["grad_norm"] = step.GradNorm;
                row["sequences_per_second"] = step.SequencesPerSecond;
                row["skipped"] = step.Skipped ? 1 : 0;
                if (step.Eval is { } ev)
                {
                    foreach (var (k, v) in ev.ToMetrics("eval/")) row[k] = v;
                    lastEval = ev;
                }
                metrics.Log(step.Step, row);
                report(step.Step + 1, $"loss {step.Train.Loss:F4} acc {step.Train.Accuracy:F3}"
                    + (step.Eval is { } e2 ? $" eval acc {e2.Accuracy:F3}" : "")
                    + (step.Skipped ? "  [yellow]skipped: non-finite[/]" : ""));
            }, t => run.Checkpoints.Save(model, t.Optimizer, t.CaptureState()));
        });
        if (cancel.StoppedEarly(trainer.StepsDone, o.Steps))
            return cancel.ReportSaved(trainer.StepsDone, run.Checkpoints.Save(model, trainer.Optimizer, trainer.CaptureState()));

        string modelPath = Path.Combine(o.OutDir, "model.safetensors");
        Gpt2Checkpoint.Save(modelPath, model.Config, model.Heads, model.Parameters);
        var series = new List<ChartSeries> { new("train loss", metrics.Series("loss")), new("train accuracy", metrics.Series("accuracy")) };
        if (metrics.Columns.Contains("eval/loss"))
        {
            series.Add(new("eval loss", metrics.Series("eval/loss")));
            series.Add(new("eval accuracy", metrics.Series("eval/accuracy")));
        }
        SvgChart.Write(Path.Combine(o.OutDir, "reward.svg"), $"Reward model ({trainer.Loss})", "step", "loss / accuracy", series);
        AnsiConsole.MarkupLineInterpolated($"saved {modelPath}; {trainer.StepsSkipped} steps skipped for non-finite values; metrics in {metrics.JsonlPath}");
        if (lastEval != null)
            AnsiConsole.MarkupLineInterpolated($"held-out: accuracy [bold]{lastEval.Accuracy:P1}[/], margin {lastEval.Margin:F3}, loss {lastEval.Loss:F4} over {lastEval.Pairs:N0} ordered pairs");
        return 0;
    }

    private static GptModel NewModel(IBackend backend, RewardOptions o)
    {
        var model = new GptModel(backend, GptConfig.Preset(o.Model), ModelHeads.Reward);
        model.InitializeWeights(o.Seed);
        return model;
    }
}
