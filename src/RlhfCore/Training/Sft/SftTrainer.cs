using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Sft;

/// <summary>One optimizer step's numbers, as logged.</summary>
public sealed record SftStepReport(int Step, double Loss, float Lr, float GradNorm, double TokensPerSecond, bool Skipped, double? EvalLoss);

/// <summary>
/// Supervised fine-tuning: next-token cross-entropy over a batch source (plain text, or prompt/completion
/// pairs where only completion tokens count), AdamW with warmup + cosine or constant rate, optional
/// global-norm clipping, gradient accumulation, periodic evaluation, and resumable checkpoints that
/// continue bit for bit (parameters, AdamW moments and step, data position).
/// A step whose loss or gradient norm is NaN or infinite is skipped before it reaches the weights.
/// </summary>
public sealed class SftTrainer : IDisposable, IStepStage
{
    private readonly GptModel _model;
    private readonly ISftBatchSource _train;
    private readonly ISftBatchSource? _eval;
    private readonly DataCursor _evalStart;
    private readonly SftOptions _o;
    private readonly LmStep _step;
    private readonly SftBatch _batch;
    private readonly OptimizerLoop _loop;

    /// <summary>The optimizer (its state and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer => _loop.Optimizer;

    /// <summary>Steps completed so far.</summary>
    public int StepsDone => _loop.StepsDone;

    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int StepsSkipped => _loop.Progress.StepsSkipped;

    /// <summary>Prepares a run of <paramref name="options"/> over <paramref name="train"/>.</summary>
    public SftTrainer(GptModel model, ISftBatchSource train, ISftBatchSource? eval, SftOptions options)
    {
        _model = model;
        _train = train;
        _eval = eval;
        _evalStart = eval?.Cursor ?? default;
        _o = options.Validate();
        if (options.SeqLen > model.Config.MaxSeqLen)
            throw new ArgumentException($"--seq {options.SeqLen} is longer than the model's context of {model.Config.MaxSeqLen} tokens");
        _step = new LmStep(model, options.Batch, options.SeqLen);
        _batch = new SftBatch(options.Batch, options.SeqLen);
        _loop = new OptimizerLoop(model, options, _train);
    }

    /// <summary>The state a checkpoint needs besides parameters and optimizer state.</summary>
    public TrainerState CaptureState() => _loop.Progress.Capture();

    /// <summary>Restores <see cref="CaptureState"/>'s output (parameters and optimizer state are loaded separately).</summary>
    public void RestoreState(TrainerState state) => _loop.Progress.Restore(state);

    /// <summary>
    /// Trains until <see cref="RlhfCore.Training.Core.TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in
    /// progress finishes first). <paramref name="onStep"/> sees every step; <paramref name="onCheckpoint"/>
    /// is asked to save at the configured interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<SftStepReport> onStep, Action<SftTrainer> onCheckpoint)
    {
        int tokensPerStep = _o.Batch * _o.SeqLen * _o.GradAccum;
        _loop.Run(cancel, this, _o.GradAccum, _o.EvalEvery,
            (r, evaluate) => onStep(new SftStepReport(r.Step, r.Loss, r.Lr, r.GradNorm, tokensPerStep / r.Seconds, r.Skipped, evaluate && _eval != null ? Evaluate() : null)),
            () => onCheckpoint(this));
    }

    /// <summary>One optimizer step, without reporting (what <see cref="Run"/> does per step).</summary>
    public StepResult Step() => _loop.Step(this, _o.GradAccum);

    void IStepStage.BeginStep() { }

    double IStepStage.MicroBatch(int microBatches)
    {
        _train.Next(_batch);
        return _step.Run(_batch, backward: true, microBatches) / microBatches;
    }

    /// <summary>Mean loss over <see cref="SftOptions.EvalBatches"/> held-out batches, always the same ones.</summary>
    public double Evaluate()
    {
        if (_eval == null) throw new InvalidOperationException("no evaluation data");
        _eval.Cursor = _evalStart;
        double sum = 0;
        int n = 0;
        for (int i = 0; i < _o.EvalBatches; i++)
        {
            _eval.Next(_batch);
            double l = _step.Run(_batch, backward: false);
            if (double.IsNaN(l)) continue;
            sum += l;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _step.Activations.Dispose();
        _loop.Dispose();
    }
}
