using System.CommandLine;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training;
using RlhfCore.Training.Ilql;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf ilql</c>: implicit language Q-learning, offline RL from reward-labelled completions (ratings or approvals JSONL),
/// starting from an SFT checkpoint. Every flag is a field of <see cref="IlqlOptions"/>. Writes config.json, metrics.jsonl/.csv
/// (trlx's names), loss.svg, model.safetensors (the policy: trunk and LM head, loadable by every other command) and
/// ilql_heads.safetensors beside it (the Q, target Q and V heads, for <c>rlhf generate --ilql-heads</c>), and resumable
/// checkpoints holding both; Ctrl-C or SIGTERM saves a checkpoint; --resume continues exactly.
/// </summary>
internal static class IlqlCommand
{
    public static Command Create() => OptionsCommand.Create<IlqlOptions>(
        new Command("ilql", "Implicit language Q-learning (offline RL) on ratings or approvals JSONL, from an SFT checkpoint"), o => o.ValidateWithData(), Run);

    private static int Run(IlqlOptions o)
    {
        using var run = TrainingRun.Open(o, "ilql");
        var tokenizer = run.Tokenizer();
        if (run.ResumeDirectory == null && o.Source == null) throw new ArgumentException("--model is required: ILQL starts from an SFT checkpoint");
        using var policy = run.LoadModel(fresh: () => ModelFiles.Load(o.Model!, run.Backend));
        run.RequireVocabulary(tokenizer, policy, preset: o.Model);
        var data = IlqlDataSet.Build(o, tokenizer, policy.Config.VocabSize);
        using var trainer = new IlqlTrainer(policy, data.Train, data.Eval, o);
        run.Begin(policy, trainer.Optimizer, state =>
        {
            trainer.RestoreState(state);
            trainer.LoadHeads(Path.Combine(run.ResumeDirectory!, IlqlHeadsFile.FileName));
        }, new
        {
            ilql = o,
            optimizerRules = trainer.Optimizer.Rules,
            model = policy.Config,
            parameters = policy.ParameterCount,
            tokenizer = tokenizer.Name,
            device = run.Backend.DeviceDescription,
            trainExamples = data.Train.Count,
            evalExamples = data.Eval.Count,
        }, $"[bold]ilql[/] (τ {o.Tau}, γ {o.Gamma}, {(o.TwoQs ? 2 : 1)} Q heads) {policy.ParameterCount:N0} parameters, {data.Train.Count:N0} training examples, {data.Eval.Count:N0} held out, {run.Backend.DeviceDescription}",
            () => trainer.StepsDone);

        string Checkpoint() => trainer.SaveCheckpoint(run.Folder.Checkpoints);
        if (run.Train(() => trainer.StepsDone, (cancel, metrics, report) => trainer.Run(cancel, step =>
        {
            var row = new Dictionary<string, double>(step.Train.Named())
            {
                ["lr"] = step.Lr,
                ["grad_norm"] = step.GradNorm,
                ["skipped"] = step.Skipped ? 1 : 0,
                ["examples_per_second"] = step.ExamplesPerSecond,
            };
            if (step.Eval is { } e) foreach (var (k, v) in e.Named()) row["eval/" + k] = v;
            metrics.Log(step.Step, row);
            report(step.Step + 1, $"loss {step.Train.Loss:F4} q {step.Train.LossQ:F4} v {step.Train.LossV:F4} awac {step.Train.LossAwac:F4}"
                + (step.Eval is { } ev ? $"  eval loss {ev.Loss:F4}" : "")
                + (step.Skipped ? "  [yellow]skipped: non-finite[/]" : ""));
        }, _ => Checkpoint()), Checkpoint) is int interrupted) return interrupted;

        string modelPath = run.SaveModel(policy);
        IlqlHeadsFile.Save(Path.Combine(o.OutDir, IlqlHeadsFile.FileName), trainer.Heads, run.Backend);
        SvgChart.Write(Path.Combine(o.OutDir, "loss.svg"), "ILQL loss", "step", "loss",
            new[] { ("total", "losses/loss"), ("TD (Q)", "losses/loss_q"), ("expectile (V)", "losses/loss_v"), ("held out", "eval/losses/loss") }
                .Where(k => run.Metrics.Columns.Contains(k.Item2)).Select(k => new ChartSeries(k.Item1, run.Metrics.Series(k.Item2))).ToList());
        run.ReportSaved(modelPath, trainer.StepsSkipped);
        return 0;
    }
}
