using System.Globalization;
using System.Text.Json;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Data.Tasks;
using RlhfCore.Feedback.Annotation;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;
using RlhfCore.Training.Sft;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Training.Pipeline;

/// <summary>The pipeline stopped because a round needs people's labels first.</summary>
public sealed class AwaitingLabelsException(string message) : InvalidOperationException(message);

/// <summary>
/// The iterative RLHF loop (InstructGPT's steps, repeated): SFT on the task's demonstrations, then per round
/// sample two (or K) completions per prompt from the current policy → collect preferences or rankings (the
/// simulated annotator, or people through <c>rlhf label</c>) → train a reward model, or an ensemble of them, on
/// every record so far → optimize the policy against it (PPO or another method, watched for reward hacking;
/// DPO on the pairs) → measure the reward model on the post-RL policy's samples → evaluate against the gold reward.
/// <para>
/// Each stage writes its artifacts into <c>OUT/sft</c> or <c>OUT/round-N</c> and is skipped when they exist,
/// so a stopped run resumes at the stage it reached; every stage is seeded from (seed, round, stage), so a
/// stage that is run again computes the same thing.
/// </para>
/// </summary>
public sealed partial class RlhfPipeline
{
    private readonly PipelineOptions _o;
    private readonly IBackend _be;
    private readonly Action<string> _log;
    private readonly IGoldTask _task;
    private readonly ITokenizer _tok = ByteTokenizer.Instance;
    private readonly string[] _evalPrompts;

    /// <summary>A pipeline of <paramref name="options"/> on <paramref name="backend"/>; <paramref name="log"/> receives progress lines.</summary>
    public RlhfPipeline(PipelineOptions options, IBackend backend, Action<string> log)
    {
        _o = options.Validate();
        _be = backend;
        _log = log;
        _task = GoldTasks.Create(options.Task, new ArithmeticTask(options.MaxOperand, options.DemoErrorRate));
        _evalPrompts = GoldEvaluation.Prompts(_task, options.EvalPrompts, options.Seed ^ 0xE7A1);
    }

    /// <summary>Stage records hold NaN for what a stage does not measure (the SFT row has no reward model).</summary>
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    private string SftModel => Path.Combine(_o.OutDir, "sft", "model.safetensors");
    private string RoundDir(int r) => Path.Combine(_o.OutDir, $"round-{r}");
    private string PolicyModel(int r) => r == 0 ? SftModel : Path.Combine(RoundDir(r), "policy", "model.safetensors");
    private ulong Seed(int round, int stage) => _o.Seed + (ulong)round * 1000 + (ulong)stage;

    /// <summary>Runs (or resumes) every stage and returns the per-round summaries (round 0 = SFT) and the curve.</summary>
    public (IReadOnlyList<RoundSummary> Rounds, IReadOnlyList<CurvePoint> Curve) Run(CancellationToken cancel)
    {
        Directory.CreateDirectory(_o.OutDir);
        TrainSft(cancel);
        var summaries = new List<RoundSummary> { Evaluate(0, SftModel, null, RewardStageResult.None, RewardStageResult.None, double.NaN, 0) };
        var curve = new List<CurvePoint>();
        var feedback = new List<FeedbackRecord>();
        for (int r = 1; r <= _o.Rounds && !cancel.IsCancellationRequested; r++)
        {
            Directory.CreateDirectory(RoundDir(r));
            feedback.AddRange(Feedback(r));
            var rewardModel = TrainRewardModel(r, feedback, cancel);
            if (cancel.IsCancellationRequested) break;
            var (roundCurve, kl) = OptimizePolicy(r, rewardModel.Path, feedback, cancel);
            if (cancel.IsCancellationRequested) break;
            var shift = ShiftDiagnostics(r, rewardModel.Path);
            curve.AddRange(roundCurve);
            summaries.Add(Evaluate(r, PolicyModel(r), rewardModel.Path, rewardModel, shift, kl, feedback.Count));
            PipelineReport.Write(_o.OutDir, summaries, curve);
        }
        PipelineReport.Write(_o.OutDir, summaries, curve);
        return (summaries, curve);
    }

    private void TrainSft(CancellationToken cancel)
    {
        if (File.Exists(SftModel)) { _log($"sft: using {SftModel}"); return; }
        var rng = new Rng(Seed(0, 1));
        var records = Enumerable.Range(0, SftData.BuiltinExamples).Select(i =>
        {
            var d = _task.SampleDemonstration(rng);
            return new SftRecord(d.Prompt, d.Completion, IsPlainText: false, $"builtin:{_task.Name}", i + 1);
        }).ToList();
        var o = new SftOptions
        {
            Data = $"builtin:{_task.Name}", Batch = _o.Batch, SeqLen = _o.SeqLen, Steps = _o.SftSteps, Lr = _o.SftLr, Warmup = Math.Min(100, _o.SftSteps / 10),
            EvalFraction = 0.02, EvalEvery = 0, CheckpointEvery = 0, Seed = Seed(0, 2), OutDir = Path.Combine(_o.OutDir, "sft"),
        };
        using var model = new GptModel(_be, GptConfig.Preset(_o.Model));
        model.InitializeWeights(Seed(0, 3));
        var data = SftData.FromRecords(records, o, _tok, model.Config.MaxSeqLen, model.Config.VocabSize);
        using var trainer = new SftTrainer(model, data.Train, data.Eval, o);
        double last = double.NaN;
        trainer.Run(cancel, s => { last = s.Loss; if ((s.Step + 1) % Math.Max(1, o.Steps / 5) == 0) _log($"sft: step {s.Step + 1}/{o.Steps} loss {s.Loss:F4}"); }, _ => { });
        if (cancel.IsCancellationRequested) return;
        Directory.CreateDirectory(o.OutDir);
        Gpt2Checkpoint.Save(SftModel, model.Config, model.Heads, model.Parameters);
        _log($"sft: saved {SftModel} (final loss {last:F4})");
    }

    /// <summary>Optimizes the previous round's policy; returns the step curve and the final KL to the SFT reference.</summary>
    private (List<CurvePoint> Curve, double Kl) OptimizePolicy(int r, string rewardModel, IReadOnlyList<FeedbackRecord> feedback, CancellationToken cancel)
    {
        string dir = Path.Combine(RoundDir(r), "policy"), model = PolicyModel(r), curveFile = Path.Combine(dir, "curve.json");
        if (File.Exists(model) && File.Exists(curveFile))
        {
            var saved = JsonSerializer.Deserialize<List<CurvePoint>>(File.ReadAllText(curveFile), Json)!;
            return (saved, saved.Count > 0 ? saved[^1].Kl : double.NaN);
        }
        Directory.CreateDirectory(dir);
        var curve = new List<CurvePoint>();
        if (_o.Method == PipelineMethod.Dpo) TrainDpo(r, DpoPairs(feedback), dir, cancel);
        else if (_o.Method == PipelineMethod.Ilql) curve = TrainIlql(r, rewardModel, dir, cancel);
        else if (_o.Method == PipelineMethod.RejectionSampling) curve = TrainRejectionSampling(r, rewardModel, dir, cancel);
        else curve = TrainRl(r, rewardModel, dir, cancel);
        if (cancel.IsCancellationRequested) return (curve, double.NaN);
        AtomicFile.Write(curveFile, s => JsonSerializer.Serialize(s, curve, Json));
        return (curve, curve.Count > 0 ? curve[^1].Kl : double.NaN);
    }

    private List<CurvePoint> TrainRl(int r, string rewardModelPath, string dir, CancellationToken cancel)
    {
        using var policy = ModelFiles.Load(PolicyModel(r - 1), _be, ModelHeads.Value, Seed(r, 7));
        using var reference = ModelFiles.Load(SftModel, _be);
        // The oracle run never reads the reward model, so it is not loaded.
        using var rewardModel = _o.OptimizeGold ? null : RewardEnsemble.Load(rewardModelPath, _be);
        using var scorer = rewardModel is null ? null : new RewardModelScorer(rewardModel.Members, _o.Aggregation, _tok, 64, _o.SeqLen, rewardModel.SharedTrunk);
        IRewardFunction reward = scorer is null ? new FunctionReward(_task.GoldReward, $"gold:{_task.Name}") : scorer;
        var rng = new Rng(Seed(r, 8));
        var prompts = Enumerable.Range(0, 4096).Select(_ => _task.SamplePrompt(rng)).ToArray();
        var o = _o.PolicyGradientOptions(_task.MaxCompletionChars + 1) with { Seed = Seed(r, 9), OutDir = dir };
        WriteStageConfig(dir, o);
        using var trainer = new PpoTrainer(policy, reference, reward, _tok, prompts, o, gold: new FunctionReward(_task.GoldReward));
        var curve = new List<CurvePoint>();
        trainer.Run(cancel, s =>
        {
            double gold = s.Metrics["reward/gold"];
            double kl = s.Metrics.TryGetValue("objective/kl", out var k) ? k : double.NaN;
            curve.Add(new CurvePoint(r, s.Step, kl, s.Scores.Average(), gold, s.Metrics.GetValueOrDefault("reward/disagreement", double.NaN)));
            if (s.HackingWarning != null) _log($"round {r}: warning: {s.HackingWarning}{(_o.StopOnHacking ? "; stopping this round's RL (--stop-on-hacking)" : "")}");
            if ((s.Step + 1) % Math.Max(1, o.Steps / 5) == 0)
                _log($"round {r}: {o.Method} step {s.Step + 1}/{o.Steps}  rm score {s.Scores.Average():F3}  gold {gold:F3}  kl {kl:F3}");
        }, _ => { });
        if (!cancel.IsCancellationRequested) Gpt2Checkpoint.Save(PolicyModel(r), policy.Config, policy.Heads, policy.Parameters);
        return curve;
    }

    private static readonly JsonSerializerOptions ConfigJson = new() { WriteIndented = true, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>The policy stage's resolved trainer options, as <c>config.json</c> in its folder: what <c>rlhf ppo</c> or <c>rlhf dpo</c> would have been given.</summary>
    private static void WriteStageConfig(string dir, object options) =>
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => JsonSerializer.Serialize(s, options, options.GetType(), ConfigJson));

    private void TrainDpo(int r, IReadOnlyList<PreferencePair> pairs, string dir, CancellationToken cancel)
    {
        var o = _o.PreferenceOptions() with { Seed = Seed(r, 10), OutDir = dir };
        WriteStageConfig(dir, o);
        using var policy = ModelFiles.Load(PolicyModel(r - 1), _be);
        // ORPO and SimPO have no reference model, so none is loaded.
        using var reference = o.NeedsReference ? ModelFiles.Load(SftModel, _be) : null;
        var examples = o.Loss == DpoLossKind.Kto
            ? DpoData.Tokenize(DpoData.Unpaired(pairs), _tok, _o.SeqLen, policy.Config.VocabSize)
            : DpoData.Tokenize(pairs, _tok, _o.SeqLen, policy.Config.VocabSize);
        using var trainer = new DpoTrainer(policy, reference, examples, null, o);
        trainer.Run(cancel, s => { if ((s.Step + 1) % Math.Max(1, o.Steps / 5) == 0) _log($"round {r}: dpo ({o.Loss}) step {s.Step + 1}/{o.Steps}"); }, _ => { });
        if (!cancel.IsCancellationRequested) Gpt2Checkpoint.Save(PolicyModel(r), policy.Config, policy.Heads, policy.Parameters);
    }

    /// <summary>Gold reward of greedy and sampled completions on the fixed prompts, and the reward model's view of the samples.</summary>
    private RoundSummary Evaluate(int r, string policyPath, string? rewardModelPath, RewardStageResult heldOut, RewardStageResult shift, double kl, int records)
    {
        string file = Path.Combine(r == 0 ? Path.Combine(_o.OutDir, "sft") : RoundDir(r), "evaluation.json");
        if (File.Exists(file)) return JsonSerializer.Deserialize<RoundSummary>(File.ReadAllText(file), Json)!;
        using var policy = ModelFiles.Load(policyPath, _be);
        using var ilql = IlqlDecodingOf(r, policy);
        var greedy = GoldEvaluation.Run(_task, policy, _tok, _evalPrompts, shaper: ilql?.Shaper);
        var sampled = GoldEvaluation.Run(_task, policy, _tok, _evalPrompts, temperature: 1f, seed: Seed(r, 11), shaper: ilql?.Shaper);
        double rmScore = double.NaN;
        if (rewardModelPath != null)
        {
            using var rewardModel = RewardEnsemble.Load(rewardModelPath, _be);
            using var scorer = new RewardModelScorer(rewardModel.Members, _o.Aggregation, _tok, 64, _o.SeqLen, rewardModel.SharedTrunk);
            rmScore = scorer.Score(sampled.Prompts, sampled.Completions).Average();
        }
        double sampledKl = r > 0 ? SampledKl(r, policy, ilql?.Shaper).Kl : double.NaN;
        var summary = new RoundSummary(r, greedy.MeanGold, sampled.MeanGold, rmScore, heldOut.Accuracy, kl, records,
            shift.Accuracy, heldOut.Ece, heldOut.Disagreement, sampledKl);
        AtomicFile.Write(file, s => JsonSerializer.Serialize(s, summary, Json));
        string name = r == 0 ? "sft" : $"round {r}";
        string klText = double.IsNaN(kl) ? string.Create(CultureInfo.InvariantCulture, $"KL on evaluation samples {sampledKl:F3}")
            : string.Create(CultureInfo.InvariantCulture, $"KL {kl:F3} (on evaluation samples {sampledKl:F3})");
        string extra = r > 0 ? string.Create(CultureInfo.InvariantCulture, $", reward-model accuracy {heldOut.Accuracy:P1} (post-RL samples {shift.Accuracy:P1}), {klText}") : "";
        _log(string.Create(CultureInfo.InvariantCulture, $"{name}: gold greedy {greedy.MeanGold:F3}, sampled {sampled.MeanGold:F3}{extra}"));
        return summary;
    }
}
