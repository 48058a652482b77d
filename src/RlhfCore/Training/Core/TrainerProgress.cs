using RlhfCore.Data;
using RlhfCore.Optim;

namespace RlhfCore.Training.Core;

/// <summary>
/// The one resumable-state contract of every trainer: the counters (steps done, updates skipped), the
/// optimizer's step, the data stream's cursor and, where the trainer draws random numbers while training
/// (PPO's sampling and shuffling), its generator. <see cref="Capture"/> and <see cref="Restore"/> are the
/// whole of it; parameters and optimizer state travel through <see cref="CheckpointStore"/>.
/// </summary>
/// <param name="optimizer">The optimizer whose step count is saved.</param>
/// <param name="stream">The training data's position.</param>
/// <param name="rng">The trainer's random stream, or null when it draws none while training.</param>
public sealed class TrainerProgress(IOptimizer optimizer, IResumableStream stream, Rng? rng = null)
{
    /// <summary>Optimizer steps completed (skipped ones included; rollout steps for PPO).</summary>
    public int StepsDone { get; private set; }

    /// <summary>Updates skipped because the loss or the gradient norm was not finite (PPO counts minibatches).</summary>
    public int StepsSkipped { get; private set; }

    /// <summary>Counts one step and the updates of it that were skipped.</summary>
    public void Advance(int skipped)
    {
        StepsSkipped += skipped;
        StepsDone++;
    }

    /// <summary>The state a checkpoint stores besides tensors.</summary>
    public TrainerState Capture() => new(StepsDone, optimizer.Step, stream.Cursor, rng?.State, StepsSkipped);

    /// <summary>Restores <see cref="Capture"/>'s output (parameters and optimizer state are loaded separately).</summary>
    public void Restore(TrainerState state)
    {
        if (rng != null) rng.State = state.RngState ?? throw new InvalidOperationException("the checkpoint's trainer state has no RNG state, which this trainer needs");
        StepsDone = state.Step;
        optimizer.Step = state.OptimizerStep;
        stream.Cursor = state.DataCursor;
        StepsSkipped = state.SkippedSteps;
    }
}
