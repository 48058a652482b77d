using System.Diagnostics;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training.Core;

namespace RlhfCore.Training;

/// <summary>One optimizer step's numbers, as logged.</summary>
public sealed record SftStepReport(int Step, double Loss, float Lr, float GradNorm, double TokensPerSecond, bool Skipped, double? EvalLoss);

/// <summary>
/// Supervised fine-tuning: next-token cross-entropy over a batch source (plain text, or prompt/completion
/// pairs where only completion tokens count), AdamW with warmup + cosine or constant rate, optional
/// global-norm clipping, gradient accumulation, periodic evaluation, and resumable checkpoints that
/// continue bit for bit (parameters, AdamW moments and step, data position).
/// A step whose loss or gradient norm is NaN or infinite is skipped before it reaches the weights.
/// </summary>
public sealed class SftTrainer : IDisposable
{
    private readonly GptModel _model;
    private readonly ISftBatchSource _train;
    private readonly TrainerProgress _progress;
    private readonly ISftBatchSource? _eval;
    private readonly DataCursor _evalStart;
    private readonly SftOptions _o;
    private readonly LmStep _step;
    private readonly SftBatch _batch;
    private readonly GradientClipper _clipper;
    private readonly LearningRateSchedule _schedule;

    /// <summary>The optimizer (its moments and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer { get; }

    /// <summary>Steps completed so far.</summary>
    public int StepsDone => _progress.StepsDone;

    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int StepsSkipped => _progress.StepsSkipped;

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
        _clipper = new GradientClipper(model.Backend);
        _schedule = options.LearningRate();
        Optimizer = new GroupedOptimizer(model.Parameters, model.Gradients, options.OptimizerConfig());
        _progress = new TrainerProgress(Optimizer, _train);
    }

    /// <summary>The state a checkpoint needs besides parameters and moments.</summary>
    public TrainerState CaptureState() => _progress.Capture();

    /// <summary>Restores <see cref="CaptureState"/>'s output (parameters and moments are loaded separately).</summary>
    public void RestoreState(TrainerState state) => _progress.Restore(state);

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in
    /// progress finishes first). <paramref name="onStep"/> sees every step; <paramref name="onCheckpoint"/>
    /// is asked to save at the configured interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<SftStepReport> onStep, Action<SftTrainer> onCheckpoint)
    {
        int tokensPerStep = _o.Batch * _o.SeqLen * _o.GradAccum;
        while (StepsDone < _o.Steps && !cancel.IsCancellationRequested)
        {
            var clock = Stopwatch.StartNew();
            int step = StepsDone;
            _model.ZeroGradients();
            double loss = 0;
            for (int micro = 0; micro < _o.GradAccum; micro++)
            {
                _train.Next(_batch);
                loss += _step.Run(_batch, backward: true, _o.GradAccum) / _o.GradAccum;
            }
            float norm = _clipper.GlobalNorm(_model.Gradients.All);
            float lr = _schedule.At(step);
            bool skip = !double.IsFinite(loss) || !float.IsFinite(norm);
            if (!skip) Optimizer.Update(lr, GradientClipper.ClipScale(norm, _o.GradClip));
            _progress.Advance(skip);
            double seconds = clock.Elapsed.TotalSeconds;
            bool last = StepsDone == _o.Steps;
            double? evalLoss = _eval != null && (last || (_o.EvalEvery > 0 && StepsDone % _o.EvalEvery == 0)) ? Evaluate() : null;
            onStep(new SftStepReport(step, loss, lr, norm, tokensPerStep / seconds, skip, evalLoss));
            if (last || (_o.CheckpointEvery > 0 && StepsDone % _o.CheckpointEvery == 0)) onCheckpoint(this);
        }
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
        _clipper.Dispose();
        Optimizer.Dispose();
    }
}

/// <summary>What a checkpoint stores besides tensors.</summary>
/// <param name="Step">Optimizer steps completed.</param>
/// <param name="OptimizerStep">AdamW's step count (bias correction).</param>
/// <param name="DataCursor">The training stream's position.</param>
/// <param name="RngState">The trainer's random stream, where it has one.</param>
/// <param name="SkippedSteps">Steps skipped for non-finite values.</param>
public sealed record TrainerState(int Step, int OptimizerStep, DataCursor DataCursor, ulong[]? RngState, int SkippedSteps);
