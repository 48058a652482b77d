using RlhfCore.Data;
using RlhfCore.Optim;

namespace RlhfCore.Training.Core;

/// <summary>
/// The resumable counters every optimizer-step trainer keeps (steps done, steps skipped) and the one
/// capture/restore of its <see cref="TrainerState"/>: the counters, the optimizer's step and the data
/// stream's cursor. Parameters and optimizer moments travel separately, through <see cref="CheckpointStore"/>.
/// </summary>
public sealed class TrainerProgress(IOptimizer optimizer, IResumableStream stream)
{
    /// <summary>Optimizer steps completed (skipped ones included).</summary>
    public int StepsDone { get; private set; }

    /// <summary>Steps skipped because the loss or the gradient norm was not finite.</summary>
    public int StepsSkipped { get; private set; }

    /// <summary>Counts one step, skipped or not.</summary>
    public void Advance(bool skipped)
    {
        if (skipped) StepsSkipped++;
        StepsDone++;
    }

    /// <summary>The state a checkpoint stores besides tensors.</summary>
    public TrainerState Capture() => new(StepsDone, optimizer.Step, stream.Cursor, null, StepsSkipped);

    /// <summary>Restores <see cref="Capture"/>'s output (parameters and moments are loaded separately).</summary>
    public void Restore(TrainerState state)
    {
        StepsDone = state.Step;
        optimizer.Step = state.OptimizerStep;
        stream.Cursor = state.DataCursor;
        StepsSkipped = state.SkippedSteps;
    }
}
