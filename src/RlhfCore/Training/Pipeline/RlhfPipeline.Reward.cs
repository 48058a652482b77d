using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Text.Json;
using RlhfCore.Backends;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Feedback.Annotation;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Pipeline;

/// <summary>A reward model's (or ensemble's) numbers from one stage.</summary>
/// <param name="Path">The model file, or the ensemble folder ("" when there is none).</param>
/// <param name="Accuracy">Accuracy of the aggregate score on the stage's comparisons.</param>
/// <param name="Ece">Expected calibration error of σ(r_a − r_b).</param>
/// <param name="Disagreement">Mean standard deviation of the members' scores (0 for one model).</param>
/// <param name="Comparisons">Ordered pairs measured.</param>
public sealed record RewardStageResult(string Path, double Accuracy, double Ece, double Disagreement, long Comparisons)
{
    /// <summary>Nothing measured.</summary>
    public static RewardStageResult None { get; } = new("", double.NaN, double.NaN, double.NaN, 0);
}

/// <summary>The reward stage: a reward model or ensemble per round, its per-step metrics, and its diagnostics.</summary>
public sealed partial class RlhfPipeline
{
    /// <summary>Member k's variant of a stage seed: member 0 keeps it (an ensemble of one is the single model), others are mixed apart.</summary>
    private static ulong MemberSeed(ulong seed, int k) => k == 0 ? seed : seed ^ ((ulong)k * SplitMix64.Increment);

    /// <summary>
    /// A reward model (from the SFT trunk, or fresh), or an ensemble of them, trained on every record so far
    /// (each member on its own bootstrap resample, with its own seed), with per-step metrics in
    /// metrics.jsonl/.csv, and diagnosed on the held-out records: accuracy, calibration (reliability.svg) and disagreement.
    /// </summary>
    private RewardStageResult TrainRewardModel(int r, IReadOnlyList<FeedbackRecord> feedback, CancellationToken cancel)
    {
        string dir = Path.Combine(RoundDir(r), "reward"), info = Path.Combine(dir, "reward.json");
        int members = _o.RewardEnsemble;
        string artifact = members == 1 ? Path.Combine(dir, "model.safetensors") : dir;
        if (File.Exists(info) && (members == 1 ? File.Exists(artifact) : EnsembleManifest.IsEnsemble(dir)))
        {
            var saved = JsonSerializer.Deserialize<Dictionary<string, double>>(File.ReadAllText(info), Json)!;
            return new RewardStageResult(artifact, saved["accuracy"], saved.GetValueOrDefault("ece", double.NaN),
                saved.GetValueOrDefault("disagreement", double.NaN), (long)saved.GetValueOrDefault("comparisons", 0));
        }
        if (feedback.Count < 3)
            throw new InvalidOperationException($"round {r} has {feedback.Count} preference record(s) so far; a reward model needs at least 3 (at least one is held out). " +
                "Raise --comparisons-per-round, or lower --annotator-tie-margin so fewer comparisons are ties");
        Directory.CreateDirectory(dir);
        var (train, eval) = HeldOutSplit.Random(feedback, _o.RewardEvalFraction, Seed(r, 4));
        if (train.Count == 0)
            throw new ArgumentException($"--reward-eval-fraction {_o.RewardEvalFraction} holds out all {feedback.Count} records of round {r}: lower it");

        var manifest = new List<EnsembleMember>();
        var pending = new List<MemberJob>();
        bool shared = members > 1 && _o.RewardEnsembleTrunk == EnsembleTrunk.Shared;
        for (int k = 0; k < (shared ? 1 : members); k++)
        {
            string memberDir = members == 1 ? dir : Path.Combine(dir, $"member-{k}"), model = Path.Combine(memberDir, "model.safetensors");
            ulong bootstrapSeed = MemberSeed(Seed(r, 12), k), seed = MemberSeed(Seed(r, 6), k);
            var memberTrain = members == 1 ? train : Bootstrap.Resample(train, bootstrapSeed);
            manifest.Add(new EnsembleMember(Path.GetRelativePath(dir, model), seed, bootstrapSeed, memberTrain.Count));
            if (members > 1 && File.Exists(model)) continue;
            pending.Add(new MemberJob(k, memberDir, model, memberTrain, seed));
        }
        TrainMembers(r, shared ? 1 : members, pending, eval, cancel);
        if (cancel.IsCancellationRequested) return RewardStageResult.None;
        if (shared) manifest.AddRange(FitSharedHeads(r, dir, Path.Combine(dir, manifest[0].File), train));
        if (members > 1) new EnsembleManifest(manifest, _o.RewardInit == RewardInit.Sft ? SftModel : "fresh", shared).Write(dir);

        var result = Diagnose(artifact, eval, Path.Combine(dir, "reliability.svg"), $"Round {r} reward model: calibration on held-out feedback");
        AtomicFile.Write(info, s => JsonSerializer.Serialize(s, new Dictionary<string, double>
        {
            ["accuracy"] = result.Accuracy, ["ece"] = result.Ece, ["disagreement"] = result.Disagreement, ["comparisons"] = result.Comparisons,
            ["records"] = feedback.Count, ["train"] = train.Count, ["members"] = members,
        }, Json));
        _log($"round {r}: reward model{(members > 1 ? $" ensemble of {members}" : "")} on {train.Count} records, held-out accuracy {result.Accuracy:P1} on {eval.Count}, ECE {result.Ece:F3}"
            + (members > 1 ? $", disagreement {result.Disagreement:F3}" : ""));
        return result;
    }

    /// <summary>Members 1…K−1 of a shared-trunk ensemble: fresh heads on member 0's frozen trunk, each on its own resample.</summary>
    private List<EnsembleMember> FitSharedHeads(int r, string dir, string member0, IReadOnlyList<FeedbackRecord> train)
    {
        using var trunk = ModelFiles.Load(member0, _be);
        var examples = RewardExamples.Tokenize(train, _tok, _o.SeqLen, PromptOverflow.TruncateLeft, appendEos: true, trunk.Config.VocabSize, allowEmptyCompletions: true);
        var seeds = Enumerable.Range(0, _o.RewardEnsemble).Select(k => MemberSeed(Seed(r, 6), k)).ToList();
        var bootstraps = Enumerable.Range(0, _o.RewardEnsemble).Select(k => MemberSeed(Seed(r, 12), k)).ToList();
        int perMember = Math.Min(examples.Count, _o.RewardSteps * _o.RewardBatch);
        var heads = LinearHeads.FitMembers(trunk, examples, seeds, bootstraps, perMember, 64, _o.SeqLen);
        var members = new List<EnsembleMember>();
        for (int k = 1; k < heads.Count; k++)
        {
            string model = Path.Combine(dir, $"member-{k}", "model.safetensors");
            Directory.CreateDirectory(Path.GetDirectoryName(model)!);
            LinearHeads.SetHead(trunk, heads[k]);
            Gpt2Checkpoint.Save(model, trunk.Config, trunk.Heads, trunk.Parameters);
            members.Add(new EnsembleMember(Path.GetRelativePath(dir, model), seeds[k], bootstraps[k], perMember));
        }
        return members;
    }

    /// <summary>Member <paramref name="k"/>'s model file of round <paramref name="r"/> (the one model when the round trained one).</summary>
    private string RewardMemberModel(int r, int k)
    {
        string dir = Path.Combine(RoundDir(r), "reward");
        string file = EnsembleManifest.IsEnsemble(dir) ? Path.Combine(dir, $"member-{k}", "model.safetensors") : Path.Combine(dir, "model.safetensors");
        if (!File.Exists(file))
            throw new FileNotFoundException($"--reward-init Previous continues round {r}'s reward model, and {file} is missing: rerun with the same --reward-ensemble as round {r}, or start a fresh --out-dir", file);
        return file;
    }

    /// <summary>One ensemble member still to train: its index, folder, model file, bootstrap resample and seed.</summary>
    private sealed record MemberJob(int K, string Dir, string Model, IReadOnlyList<FeedbackRecord> Train, ulong Seed);

    /// <summary>
    /// Trains the members still missing. On the CPU backend with T threads an ensemble of K trains min(K, T) members side by
    /// side, each on its own backend of T / min(K, T) threads: a small model's step cannot keep several threads busy, while
    /// members are independent. The split depends on K and T only (not on how many members a resumed run has left), so a
    /// member trained again computes the same weights; the same seed and thread count give the same ensemble.
    /// </summary>
    private void TrainMembers(int r, int members, IReadOnlyList<MemberJob> pending, IReadOnlyList<FeedbackRecord> eval, CancellationToken cancel)
    {
        int threads = _be is CpuBackend cpu ? cpu.Pool.ThreadCount : 1, lanes = Math.Min(members, threads);
        if (lanes <= 1)
        {
            foreach (var job in pending)
            {
                TrainMember(r, job, eval, _be, cancel);
                if (cancel.IsCancellationRequested) return;
            }
            return;
        }
        int threadsEach = threads / lanes;
        try
        {
            // Members are handed out one at a time, so a lane that finishes takes the next one instead of waiting on a chunk.
            var queue = Partitioner.Create(pending, EnumerablePartitionerOptions.NoBuffering);
            Parallel.ForEach(queue, new ParallelOptions { MaxDegreeOfParallelism = lanes }, job =>
            {
                using var lane = new CpuBackend(threadsEach);
                TrainMember(r, job, eval, lane, cancel);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // The first member's error is the one a sequential run would have shown.
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    private void TrainMember(int r, MemberJob job, IReadOnlyList<FeedbackRecord> eval, IBackend backend, CancellationToken cancel)
    {
        var (k, memberDir, model, train, seed) = (job.K, job.Dir, job.Model, job.Train, job.Seed);
        Directory.CreateDirectory(memberDir);
        ulong initSeed = MemberSeed(Seed(r, 5), k);
        bool continued = _o.RewardInit == RewardInit.Previous && r > 1;
        using var rm = continued ? ModelFiles.Load(RewardMemberModel(r - 1, k), backend)
            : _o.RewardInit == RewardInit.Fresh ? FreshRewardModel(initSeed, backend)
            : ModelFiles.Load(SftModel, backend, ModelHeads.Reward, initSeed);
        int steps = continued && _o.ContinuedRewardSteps > 0 ? _o.ContinuedRewardSteps : _o.RewardSteps;
        var o = new RewardOptions
        {
            Batch = _o.RewardBatch, SeqLen = _o.SeqLen, Steps = steps, Lr = _o.RewardLr, Warmup = Math.Min(20, steps / 10),
            EvalEvery = 0, CheckpointEvery = 0, Seed = seed, OutDir = memberDir, Overflow = PromptOverflow.TruncateLeft, AllowEmptyCompletions = true,
        };
        using var trainer = RewardTrainer.FromFeedback(rm, _tok, train, eval, o);
        using (var metrics = new MetricsLog(Path.Combine(memberDir, "metrics.jsonl")))
            trainer.Run(cancel, step =>
            {
                var row = step.Train.ToMetrics();
                row["lr"] = step.Lr;
                row["grad_norm"] = step.GradNorm;
                row["skipped"] = step.Skipped ? 1 : 0;
                if (step.Eval is { } ev) foreach (var (name, v) in ev.ToMetrics("eval/")) row[name] = v;
                metrics.Log(step.Step, row);
            });
        if (!cancel.IsCancellationRequested) Gpt2Checkpoint.Save(model, rm.Config, rm.Heads, rm.Parameters);
    }

    /// <summary>Accuracy, calibration and disagreement of the reward model at <paramref name="artifact"/> on <paramref name="records"/>, with a reliability diagram.</summary>
    private RewardStageResult Diagnose(string artifact, IReadOnlyList<FeedbackRecord> records, string svg, string title)
    {
        using var ensemble = RewardEnsemble.Load(artifact, _be);
        var examples = RewardExamples.Tokenize(records, _tok, _o.SeqLen, PromptOverflow.TruncateLeft, appendEos: true,
            ensemble.Members[0].Config.VocabSize, allowEmptyCompletions: true);
        if (examples.Count == 0) return RewardStageResult.None with { Path = artifact };
        using var scorer = new EnsembleScorer(ensemble, 64, _o.SeqLen);
        var d = RewardDiagnostics.Compute(scorer, _o.Aggregation, examples);
        RewardDiagnostics.WriteReliabilitySvg(svg, title, d);
        return new RewardStageResult(artifact, d.Accuracy, d.Ece, d.Disagreement, d.Pairs);
    }

    /// <summary>
    /// The reward model's accuracy on the distribution RL moved to: two fresh samples per prompt from the
    /// round's post-RL policy, judged by the simulated annotator on the gold reward (shift.json, reliability-shift.svg).
    /// </summary>
    private RewardStageResult ShiftDiagnostics(int r, string artifact)
    {
        if (_o.ShiftEvalPrompts == 0 || artifact.Length == 0) return RewardStageResult.None;
        string file = Path.Combine(RoundDir(r), "shift.json");
        if (File.Exists(file)) return JsonSerializer.Deserialize<RewardStageResult>(File.ReadAllText(file), Json)!;
        using var policy = ModelFiles.Load(PolicyModel(r), _be);
        var rng = new Rng(Seed(r, 13));
        var prompts = Enumerable.Range(0, _o.ShiftEvalPrompts).Select(_ => _task.SamplePrompt(rng)).ToArray();
        using var ilql = IlqlDecodingOf(r, policy);
        var samples = GoldEvaluation.Run(_task, policy, _tok, prompts.SelectMany(p => new[] { p, p }).ToArray(), temperature: 1f, seed: Seed(r, 14), shaper: ilql?.Shaper);
        var items = Enumerable.Range(0, prompts.Length).Select(i => new ComparisonItem(prompts[i], samples.Completions[2 * i], samples.Completions[2 * i + 1])).ToList();
        var pairs = Annotator(Seed(r, 15)).Label(items).Pairs.ToList<FeedbackRecord>();
        var result = pairs.Count == 0 ? RewardStageResult.None with { Path = artifact }
            : Diagnose(artifact, pairs, Path.Combine(RoundDir(r), "reliability-shift.svg"), $"Round {r} reward model: calibration on the post-RL policy's samples");
        AtomicFile.Write(file, s => JsonSerializer.Serialize(s, result, Json));
        _log($"round {r}: reward model on {pairs.Count} pairs from the post-RL policy: accuracy {result.Accuracy:P1}, ECE {result.Ece:F3}");
        return result;
    }

    private GptModel FreshRewardModel(ulong seed, IBackend backend)
    {
        var config = _o.RewardModel.Length > 0 ? GptConfig.Preset(_o.RewardModel) : ModelFiles.ReadInfo(SftModel).Config;
        var model = new GptModel(backend, config, ModelHeads.Reward);
        model.InitializeWeights(seed);
        return model;
    }
}
