namespace RlhfCore.Training.Core;

/// <summary>
/// What a stage (SFT, reward model, DPO) does inside one step of the <see cref="OptimizerLoop"/>: the loop
/// zeroes the gradients, then asks for each micro-batch in turn; everything else (norm, skip, clip, update,
/// schedule, counters) is the loop's. Implementations must not allocate: a training step allocates nothing.
/// </summary>
public interface IStepStage
{
    /// <summary>Clears the per-step metrics before the step's first micro-batch.</summary>
    void BeginStep();

    /// <summary>
    /// Takes the next micro-batch, runs forward and backward (parameter gradients accumulate) with the loss
    /// scaled for <paramref name="microBatches"/> of them, and returns this micro-batch's share of the step's loss.
    /// </summary>
    double MicroBatch(int microBatches);
}
