using System.Diagnostics;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Tensors;

namespace RlhfCore.Training.Core;

/// <summary>One optimizer step's numbers (a struct: the step allocates nothing).</summary>
/// <param name="Step">0-based step index.</param>
/// <param name="Loss">The step's loss: the sum of its micro-batches' shares.</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="Skipped">True when the loss or the norm was not finite and the weights were left alone.</param>
/// <param name="Seconds">Wall time of the step (evaluation excluded).</param>
public readonly record struct StepResult(int Step, double Loss, float Lr, float GradNorm, bool Skipped, double Seconds);

/// <summary>
/// The one optimizer loop of every trainer: zero the gradients → accumulate the micro-batches → global
/// norm → skip a step whose loss or norm is not finite (counted, and reported in <see cref="StepResult.Skipped"/>)
/// → clip → update → schedule; then the evaluation cadence, the checkpoint cadence and the stop request.
/// SFT, reward and DPO run whole steps through <see cref="Run"/>; PPO, whose step is a rollout with many
/// minibatch updates, uses <see cref="TryUpdate"/>, <see cref="Progress"/> and <see cref="CheckpointDue"/>.
/// It owns the optimizer, the clipper and the schedule; <see cref="Progress"/> is the resumable state.
/// </summary>
public sealed class OptimizerLoop : IDisposable
{
    private readonly GptModel _model;
    private readonly TrainerOptions _o;
    private readonly GradientClipper _clipper;
    private readonly LearningRateSchedule _schedule;
    private readonly TensorArena? _extraGradients;

    /// <summary>The optimizer (its state and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer { get; }

    /// <summary>Steps done and skipped, and the capture/restore of the trainer's resumable state.</summary>
    public TrainerProgress Progress { get; }

    /// <summary>Steps completed so far.</summary>
    public int StepsDone => Progress.StepsDone;

    /// <summary>
    /// A loop training <paramref name="model"/>'s parameters under <paramref name="options"/>, reading
    /// <paramref name="stream"/> (and drawing from <paramref name="rng"/>, when the trainer does while training).
    /// </summary>
    public OptimizerLoop(GptModel model, TrainerOptions options, IResumableStream stream, Rng? rng = null)
        : this(model, options, stream, rng, extra: null)
    {
    }

    /// <summary>
    /// A loop that also trains parameters outside the model (ILQL's Q and V heads): <paramref name="extra"/>'s tensors join the
    /// model's in the one optimizer (named <c>Prefix</c> + their name, in its state and parameter groups), its gradients are
    /// zeroed with the model's each step, and the global norm and clip cover both.
    /// </summary>
    public OptimizerLoop(GptModel model, TrainerOptions options, IResumableStream stream, Rng? rng,
        (string Prefix, TensorArena Parameters, TensorArena Gradients)? extra)
    {
        _model = model;
        _o = options;
        _clipper = new GradientClipper(model.Backend);
        _schedule = options.LearningRate();
        Optimizer = extra is { } e
            ? new GroupedOptimizer(TensorArena.Join(model.Parameters, e.Parameters, e.Prefix), TensorArena.Join(model.Gradients, e.Gradients, e.Prefix), options.OptimizerConfig())
            : new GroupedOptimizer(model.Parameters, model.Gradients, options.OptimizerConfig());
        _extraGradients = extra?.Gradients;
        Progress = new TrainerProgress(Optimizer, stream, rng);
    }

    /// <summary>Zeroes the gradients of everything this loop trains (the model's and the extra tensors').</summary>
    public void ZeroGradients()
    {
        _model.ZeroGradients();
        if (_extraGradients != null) _model.Backend.Zero(_extraGradients.All);
    }

    /// <summary>The learning rate at <paramref name="step"/>.</summary>
    public float LearningRateAt(int step) => _schedule.At(step);

    /// <summary>True when the step just completed is the last one or falls on the checkpoint cadence.</summary>
    public bool CheckpointDue => StepsDone == _o.Steps || (_o.CheckpointEvery > 0 && StepsDone % _o.CheckpointEvery == 0);

    /// <summary>True when the step just completed is the last one or falls on the cadence <paramref name="every"/> (0 = only the last).</summary>
    public bool Due(int every) => StepsDone == _o.Steps || (every > 0 && StepsDone % every == 0);

    /// <summary>
    /// Steps until <see cref="TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in
    /// progress finishes first). After each step <paramref name="onStep"/> gets its numbers and whether the
    /// evaluation cadence <paramref name="evalEvery"/> falls on it; <paramref name="onCheckpoint"/> is called
    /// at the checkpoint cadence and after the last step.
    /// </summary>
    public void Run(CancellationToken cancel, IStepStage stage, int microBatches, int evalEvery, Action<StepResult, bool> onStep, Action onCheckpoint)
    {
        while (StepsDone < _o.Steps && !cancel.IsCancellationRequested)
        {
            var result = Step(stage, microBatches);
            onStep(result, Due(evalEvery));
            if (CheckpointDue) onCheckpoint();
        }
    }

    /// <summary>One optimizer step of <paramref name="microBatches"/> micro-batches of <paramref name="stage"/>.</summary>
    public StepResult Step(IStepStage stage, int microBatches)
    {
        long start = Stopwatch.GetTimestamp();
        int step = StepsDone;
        ZeroGradients();
        stage.BeginStep();
        double loss = 0;
        for (int micro = 0; micro < microBatches; micro++) loss += stage.MicroBatch(microBatches);
        float lr = _schedule.At(step);
        bool skipped = !TryUpdate(loss, lr, out float norm);
        Progress.Advance(skipped ? 1 : 0);
        return new StepResult(step, loss, lr, norm, skipped, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>
    /// The update of accumulated gradients: global norm, then — unless <paramref name="loss"/> or the norm is
    /// not finite, when it returns false and leaves the weights alone — clip to <see cref="TrainerOptions.GradClip"/>
    /// and update at <paramref name="lr"/>.
    /// </summary>
    public bool TryUpdate(double loss, float lr, out float norm)
    {
        norm = _clipper.GlobalNorm(_model.Gradients.All);
        if (_extraGradients != null)
        {
            float extra = _clipper.GlobalNorm(_extraGradients.All);
            norm = MathF.Sqrt(norm * norm + extra * extra);
        }
        if (!double.IsFinite(loss) || !float.IsFinite(norm)) return false;
        Optimizer.Update(lr, GradientClipper.ClipScale(norm, _o.GradClip));
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _clipper.Dispose();
        Optimizer.Dispose();
    }
}
