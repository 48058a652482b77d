using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Reward;

/// <summary>One optimizer step's numbers, as logged.</summary>
/// <param name="Step">0-based step index.</param>
/// <param name="Train">Loss, accuracy, margin and reward statistics over the step's micro-batches.</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="SequencesPerSecond">Sequences scored and backpropagated per second.</param>
/// <param name="Skipped">True when the loss or gradient was not finite and the weights were left alone.</param>
/// <param name="Eval">The held-out summary when this step evaluated.</param>
public sealed record RewardStepReport(int Step, RewardSummary Train, float Lr, float GradNorm, double SequencesPerSecond, bool Skipped, RewardSummary? Eval);

/// <summary>
/// Trains a reward model (trunk + reward head scoring each sequence at its last token) on tokenized
/// feedback: Bradley–Terry on pairs (with margins), Plackett–Luce on rankings, regression on ratings,
/// logistic on approvals, optionally with reward centering. All members of a pair or ranking share one
/// [B, T] batch. AdamW with warmup + cosine or constant rate, global-norm clipping, gradient accumulation,
/// periodic held-out evaluation, and checkpoints that resume bit for bit (parameters, AdamW moments and
/// step, data position). A step whose loss or gradient norm is NaN or infinite is skipped before it
/// reaches the weights, and reported.
/// </summary>
public sealed class RewardTrainer : IDisposable, IStepStage
{
    private readonly GptModel _model;
    private readonly IReadOnlyList<RewardExample> _train;
    private readonly IReadOnlyList<RewardExample> _eval;
    private readonly RewardOptions _o;
    private readonly ShuffleSampler _sampler;
    private readonly OptimizerLoop _loop;
    private readonly RewardStep _step;
    private readonly RewardBatch _batch;
    private readonly RewardMetrics _metrics = new();
    private int _sequences;

    /// <summary>The loss the feedback kind calls for.</summary>
    public RewardLoss Loss { get; }

    /// <summary>The optimizer (its state and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer => _loop.Optimizer;

    /// <summary>Steps completed so far.</summary>
    public int StepsDone => _loop.StepsDone;

    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int StepsSkipped => _loop.Progress.StepsSkipped;

    /// <summary>Prepares a run of <paramref name="options"/> over tokenized examples (all of one kind).</summary>
    /// <param name="model">A model with the reward head; trained in place.</param>
    /// <param name="eval">Held-out examples of the same kind, or null/empty for none.</param>
    public RewardTrainer(GptModel model, IReadOnlyList<RewardExample> train, IReadOnlyList<RewardExample>? eval, RewardOptions options)
    {
        _o = options.Validate();
        if (!model.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("a reward model needs the reward head (ModelHeads.Reward)", nameof(model));
        if (options.SeqLen > model.Config.MaxSeqLen)
            throw new ArgumentException($"--seq-len {options.SeqLen} is longer than the model's context of {model.Config.MaxSeqLen} tokens");
        if (train.Count == 0) throw new ArgumentException("no training feedback", nameof(train));
        _model = model;
        _train = train;
        _eval = eval ?? [];
        var kind = train[0].Kind;
        Loss = RewardLosses.For(kind);
        int maxK = 1;
        foreach (var ex in _train.Concat(_eval))
        {
            Check(ex, kind, options.SeqLen, model.Config.VocabSize);
            maxK = Math.Max(maxK, ex.Sequences.Length);
        }
        _sampler = new ShuffleSampler(train.Count, options.Seed);
        _batch = new RewardBatch(options.Batch * maxK, options.SeqLen);
        _step = new RewardStep(model, _batch.MaxRows, options.SeqLen);
        _loop = new OptimizerLoop(model, options, _sampler);
    }

    /// <summary>
    /// A trainer over text feedback (e.g. <see cref="PreferencePair"/>s a pipeline made in memory),
    /// tokenized with <paramref name="tokenizer"/> under the options' EOS and overflow policies.
    /// </summary>
    public static RewardTrainer FromFeedback(GptModel model, ITokenizer tokenizer, IReadOnlyList<FeedbackRecord> train,
        IReadOnlyList<FeedbackRecord>? eval, RewardOptions options)
    {
        options.Validate();
        List<RewardExample> Tokenize(IReadOnlyList<FeedbackRecord> records) =>
            RewardExamples.Tokenize(records, tokenizer, options.SeqLen, options.Overflow, options.AppendEos, model.Config.VocabSize,
                allowEmptyCompletions: options.AllowEmptyCompletions);
        return new RewardTrainer(model, Tokenize(train), eval is { Count: > 0 } ? Tokenize(eval) : null, options);
    }

    private static void Check(RewardExample ex, FeedbackKind kind, int seqLen, int vocab)
    {
        if (ex.Kind != kind) throw new ArgumentException($"{ex.Source}: {ex.Kind} feedback mixed with {kind}; one run trains on one kind");
        int expected = kind switch { FeedbackKind.Pairs => 2, FeedbackKind.Ratings or FeedbackKind.Approvals => 1, _ => -1 };
        if (expected > 0 ? ex.Sequences.Length != expected : ex.Sequences.Length < 2)
            throw new ArgumentException($"{ex.Source}: {kind} feedback with {ex.Sequences.Length} sequences");
        foreach (var seq in ex.Sequences)
        {
            if (seq.Length < 1 || seq.Length > seqLen) throw new ArgumentException($"{ex.Source}: a sequence of {seq.Length} tokens does not fit --seq-len {seqLen}");
            foreach (int id in seq)
                if ((uint)id >= (uint)vocab) throw new ArgumentException($"{ex.Source}: token id {id} is outside the model vocabulary [0, {vocab})");
        }
    }

    /// <summary>The state a checkpoint needs besides parameters and moments.</summary>
    public TrainerState CaptureState() => _loop.Progress.Capture();

    /// <summary>Restores <see cref="CaptureState"/>'s output (parameters and moments are loaded separately).</summary>
    public void RestoreState(TrainerState state) => _loop.Progress.Restore(state);

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in
    /// progress finishes first). <paramref name="onStep"/> sees every step; <paramref name="onCheckpoint"/> is
    /// asked to save at the configured interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<RewardStepReport>? onStep = null, Action<RewardTrainer>? onCheckpoint = null) =>
        _loop.Run(cancel, this, _o.GradAccum, _o.EvalEvery,
            (r, evaluate) => onStep?.Invoke(new RewardStepReport(r.Step, _metrics.Summary(), r.Lr, r.GradNorm, _sequences / r.Seconds, r.Skipped,
                evaluate && _eval.Count > 0 ? Evaluate() : null)),
            () => onCheckpoint?.Invoke(this));

    /// <summary>One optimizer step, without reporting (what <see cref="Run"/> does per step).</summary>
    public StepResult Step() => _loop.Step(this, _o.GradAccum);

    void IStepStage.BeginStep()
    {
        _metrics.Clear();
        _sequences = 0;
    }

    double IStepStage.MicroBatch(int microBatches)
    {
        _batch.Clear();
        for (int i = 0; i < _o.Batch; i++) _batch.Add(_train[_sampler.Next()]);
        _sequences += _batch.Rows;
        return _step.Run(_batch, Loss, _o.CenterRewardsCoefficient, backward: true, 1.0 / microBatches, _metrics) / microBatches;
    }

    /// <summary>The summary over the held-out examples (the first <see cref="RewardOptions.EvalMax"/>, or all), always the same ones.</summary>
    public RewardSummary Evaluate() => Evaluate(_eval);

    /// <summary>The summary over <paramref name="examples"/> (of the training kind), in order, without training.</summary>
    public RewardSummary Evaluate(IReadOnlyList<RewardExample> examples)
    {
        if (examples.Count == 0) throw new InvalidOperationException("no held-out feedback to evaluate on");
        int count = _o.EvalMax > 0 ? Math.Min(_o.EvalMax, examples.Count) : examples.Count;
        var metrics = new RewardMetrics();
        _batch.Clear();
        for (int i = 0; i < count; i++)
        {
            Check(examples[i], _train[0].Kind, _o.SeqLen, _model.Config.VocabSize);
            if (examples[i].Sequences.Length > _batch.MaxRows)
                throw new ArgumentException($"{examples[i].Source}: {examples[i].Sequences.Length} sequences exceed the batch's {_batch.MaxRows} rows");
            if (_batch.Groups == _o.Batch || !_batch.Fits(examples[i])) Flush();
            _batch.Add(examples[i]);
        }
        Flush();
        return metrics.Summary();

        void Flush()
        {
            if (_batch.Groups > 0) _step.Run(_batch, Loss, _o.CenterRewardsCoefficient, backward: false, 1, metrics);
            _batch.Clear();
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _step.Dispose();
        _loop.Dispose();
    }
}
