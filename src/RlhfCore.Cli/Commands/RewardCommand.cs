using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf reward</c>: trains a reward model on human feedback. Every flag is a field of
/// <see cref="RewardOptions"/>. Writes config.json, metrics.jsonl/.csv, reward.svg (loss and accuracy),
/// model.safetensors (with the <c>score</c> head) and resumable checkpoints to --out-dir; Ctrl-C or SIGTERM finishes
/// the current step, saves a checkpoint and exits; --resume continues exactly. With <c>--ensemble K</c>
/// (K ≥ 2) each member is such a run in --out-dir/member-k, on its own bootstrap resample with its own
/// seed, and --out-dir/ensemble.json makes the folder one artifact. On pairs and rankings it ends with
/// held-out diagnostics: accuracy, calibration (ECE, reliability.svg) and ensemble disagreement (diagnostics.json).
/// </summary>
internal static class RewardCommand
{
    public static Command Create()
    {
        return OptionsCommand.Create<RewardOptions>(new Command("reward", "Train a reward model on feedback: pairs (Bradley–Terry), rankings (Plackett–Luce), ratings (regression), approvals (logistic)"), o => o.Validate(), Run);
    }

    private static int Run(RewardOptions o)
    {
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        var tokenizer = TokenizerFactory.Create(o.Tokenizer, o.TokenizerDir);
        var data = RewardData.Load(o);
        if (o.Ensemble == 1)
        {
            int code = RunMember(o, backend, tokenizer, data, data.Train);
            return code != 0 ? code : Diagnose(o, backend, tokenizer, data, Path.Combine(o.OutDir, "model.safetensors"));
        }
        var members = new List<EnsembleMember>();
        bool shared = o.EnsembleTrunk == EnsembleTrunk.Shared;
        for (int k = 0; k < (shared ? 1 : o.Ensemble); k++)
        {
            // Member k: its own seed (head initialization, data order) and its own bootstrap resample; the held-out split is shared.
            ulong seed = o.Seed + (ulong)k, bootstrapSeed = o.Seed ^ (0xB00757A9UL + (ulong)k);
            string memberDir = Path.Combine(o.OutDir, $"member-{k}");
            // --resume continues the member that was interrupted; a member with no checkpoint yet starts again, its
            // partial files moved aside (the member's own folder ownership check refuses a fresh run over them otherwise).
            bool resumable = o.Resume && new CheckpointStore(memberDir).LatestDirectory() != null;
            var member = o with { OutDir = memberDir, Seed = seed, Ensemble = 1, Resume = resumable, Overwrite = o.Overwrite || (o.Resume && !resumable && Directory.Exists(memberDir)) };
            var train = Bootstrap.Resample(data.Train, bootstrapSeed);
            members.Add(new EnsembleMember(Path.Combine($"member-{k}", "model.safetensors"), seed, bootstrapSeed, train.Count));
            if (o.Resume && File.Exists(Path.Combine(member.OutDir, "model.safetensors")))
            {
                AnsiConsole.MarkupLineInterpolated($"member {k}: finished earlier ({member.OutDir})");
                continue;
            }
            AnsiConsole.MarkupLineInterpolated($"[bold]member {k + 1}/{o.Ensemble}[/] seed {seed}, bootstrap resample of {train.Count:N0} records");
            int code = RunMember(member, backend, tokenizer, data, train);
            if (code != 0) return code;
        }
        if (shared) members.AddRange(FitSharedHeads(o, backend, tokenizer, data));
        new EnsembleManifest(members, o.InitFrom ?? "fresh", shared).Write(o.OutDir);
        AnsiConsole.MarkupLineInterpolated($"saved the ensemble of {o.Ensemble}: {Path.Combine(o.OutDir, EnsembleManifest.FileName)} (pass {o.OutDir} as --reward-model)");
        return Diagnose(o, backend, tokenizer, data, o.OutDir);
    }

    /// <summary>Members 1…K−1 of a shared-trunk ensemble: fresh heads on member 0's frozen trunk, each fitted on its own bootstrap resample.</summary>
    private static List<EnsembleMember> FitSharedHeads(RewardOptions o, IBackend backend, ITokenizer tokenizer, RewardData data)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var trunk = ModelFiles.Load(Path.Combine(o.OutDir, "member-0", "model.safetensors"), backend);
        var train = RewardExamples.Tokenize(data.Train, tokenizer, o.SeqLen, o.Overflow, o.AppendEos, trunk.Config.VocabSize, [], o.AllowEmptyCompletions);
        var seeds = Enumerable.Range(0, o.Ensemble).Select(k => o.Seed + (ulong)k).ToList();
        var bootstraps = Enumerable.Range(0, o.Ensemble).Select(k => o.Seed ^ (0xB00757A9UL + (ulong)k)).ToList();
        int perMember = (int)Math.Min(train.Count, (long)o.Steps * o.Batch * o.GradAccum);
        var heads = LinearHeads.FitMembers(trunk, train, seeds, bootstraps, perMember, o.Batch * 2, o.SeqLen);
        var members = new List<EnsembleMember>();
        for (int k = 1; k < heads.Count; k++)
        {
            string file = Path.Combine($"member-{k}", "model.safetensors");
            Directory.CreateDirectory(Path.Combine(o.OutDir, $"member-{k}"));
            LinearHeads.SetHead(trunk, heads[k]);
            Gpt2Checkpoint.Save(Path.Combine(o.OutDir, file), trunk.Config, trunk.Heads, trunk.Parameters);
            members.Add(new EnsembleMember(file, seeds[k], bootstraps[k], perMember));
        }
        AnsiConsole.MarkupLineInterpolated($"fitted {heads.Count - 1} more heads on member 0's frozen trunk in {clock.Elapsed.TotalSeconds:F1} s, each on a bootstrap resample of {perMember:N0} records");
        return members;
    }

    /// <summary>Held-out accuracy, calibration and disagreement of the saved model or ensemble (pairs and rankings only).</summary>
    private static int Diagnose(RewardOptions o, IBackend backend, ITokenizer tokenizer, RewardData data, string artifact)
    {
        if (data.Eval.Count == 0 || data.Kind is not (FeedbackKind.Pairs or FeedbackKind.Transcripts or FeedbackKind.Rankings)) return 0;
        using var ensemble = RewardEnsemble.Load(artifact, backend);
        var eval = RewardExamples.Tokenize(data.Eval, tokenizer, o.SeqLen, o.Overflow,
            o.AppendEos, ensemble.Members[0].Config.VocabSize, [], o.AllowEmptyCompletions);
        if (eval.Count == 0) return 0;
        using var scorer = new EnsembleScorer(ensemble, o.Batch * 2, o.SeqLen);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var d = RewardDiagnostics.Compute(scorer, new RewardAggregation(), eval);
        double seconds = clock.Elapsed.TotalSeconds;
        RewardDiagnostics.WriteReliabilitySvg(Path.Combine(o.OutDir, "reliability.svg"), $"Reward model{(ensemble.Count > 1 ? $" ensemble of {ensemble.Count}" : "")}: held-out calibration", d);
        AtomicFile.Write(Path.Combine(o.OutDir, "diagnostics.json"), s => System.Text.Json.JsonSerializer.Serialize(s, new
        {
            members = ensemble.Count, accuracy = d.Accuracy, ece = d.Ece, disagreement = d.Disagreement, pairs = d.Pairs,
            scoringSeconds = seconds, sequences = eval.Sum(e => e.Sequences.Length),
            bins = d.Bins.Select(b => new { lo = b.Lo, hi = b.Hi, count = b.Count, predicted = double.IsNaN(b.MeanPredicted) ? (double?)null : b.MeanPredicted, observed = double.IsNaN(b.Frequency) ? (double?)null : b.Frequency }),
        }, RunFiles.Json));
        AnsiConsole.MarkupLineInterpolated(
            $"diagnostics ({ensemble.Count} member(s), mean score): held-out accuracy [bold]{d.Accuracy:P1}[/], ECE {d.Ece:F3}, disagreement {d.Disagreement:F3}; {eval.Sum(e => e.Sequences.Length):N0} sequences scored in {seconds:F2} s; reliability.svg, diagnostics.json");
        return 0;
    }

    private static int RunMember(RewardOptions o, IBackend backend, ITokenizer tokenizer, RewardData data, IReadOnlyList<FeedbackRecord> trainRecords)
    {
        using var run = TrainingRun.Open(o, "reward", backend);
        using var model = run.LoadModel(() => run.FreshModel(o.Model, ModelHeads.Reward), ModelHeads.Reward);
        run.RequireVocabulary(tokenizer, model, o.Model);

        var skipped = new List<string>(data.Skipped);
        List<RewardExample> Tokenize(IReadOnlyList<FeedbackRecord> records) =>
            RewardExamples.Tokenize(records, tokenizer, o.SeqLen, o.Overflow, o.AppendEos, model.Config.VocabSize, skipped, o.AllowEmptyCompletions);
        var train = Tokenize(trainRecords);
        var eval = Tokenize(data.Eval);
        if (train.Count == 0) throw new ArgumentException($"{o.Data}: every training record was skipped");
        foreach (var message in skipped.Take(5)) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped:[/] {message}");
        if (skipped.Count > 5) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped {skipped.Count - 5} more records[/]");

        using var trainer = new RewardTrainer(model, train, eval, o);
        run.Begin(model, trainer.Optimizer, trainer.RestoreState, new
        {
            reward = o,
            optimizerRules = trainer.Optimizer.Rules,
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
        }, $"[bold]reward[/] {trainer.Loss} on {train.Count:N0} {data.Kind.ToString().ToLowerInvariant()} records ({eval.Count:N0} held out), {model.ParameterCount:N0} parameters, {backend.DeviceDescription}",
            () => trainer.StepsDone);

        RewardSummary? lastEval = null;
        string Checkpoint() => run.Folder.Checkpoints.Save(model, trainer.Optimizer, trainer.CaptureState());
        if (run.Train(() => trainer.StepsDone, (cancel, metrics, report) => trainer.Run(cancel, step =>
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
        }, _ => Checkpoint()), Checkpoint) is int interrupted) return interrupted;

        string modelPath = run.SaveModel(model, hfConfig: false);
        var series = new List<ChartSeries> { new("train loss", run.Metrics.Series("loss")), new("train accuracy", run.Metrics.Series("accuracy")) };
        if (run.Metrics.Columns.Contains("eval/loss"))
        {
            series.Add(new("eval loss", run.Metrics.Series("eval/loss")));
            series.Add(new("eval accuracy", run.Metrics.Series("eval/accuracy")));
        }
        SvgChart.Write(Path.Combine(o.OutDir, "reward.svg"), $"Reward model ({trainer.Loss})", "step", "loss / accuracy", series);
        run.ReportSaved(modelPath, trainer.StepsSkipped);
        if (lastEval != null)
            AnsiConsole.MarkupLineInterpolated($"held-out: accuracy [bold]{lastEval.Accuracy:P1}[/], margin {lastEval.Margin:F3}, loss {lastEval.Loss:F4} over {lastEval.Pairs:N0} ordered pairs");
        return 0;
    }
}
