using RlhfCore.Data;

namespace RlhfCore.Training.Core;

/// <summary>What a checkpoint stores besides tensors.</summary>
/// <param name="Step">Optimizer steps completed.</param>
/// <param name="OptimizerStep">AdamW's step count (bias correction).</param>
/// <param name="DataCursor">The training stream's position.</param>
/// <param name="RngState">The trainer's random stream, where it has one.</param>
/// <param name="SkippedSteps">Steps skipped for non-finite values.</param>
public sealed record TrainerState(int Step, int OptimizerStep, DataCursor DataCursor, ulong[]? RngState, int SkippedSteps);
