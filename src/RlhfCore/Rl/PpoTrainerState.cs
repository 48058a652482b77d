using RlhfCore.Data;

namespace RlhfCore.Rl;

/// <summary>Everything an RL checkpoint stores besides the policy's tensors and the AdamW moments.</summary>
/// <param name="Step">Rollout steps completed.</param>
/// <param name="OptimizerStep">AdamW's step count.</param>
/// <param name="DataCursor">Position in the prompt stream.</param>
/// <param name="RngState">The sampling and shuffling stream.</param>
/// <param name="Episode">Sequences sampled so far (TRL's <c>episode</c>).</param>
/// <param name="SkippedMinibatches">Minibatches skipped for a non-finite loss or gradient.</param>
/// <param name="KlCoef">The KL controller's current β.</param>
/// <param name="Baseline">REINFORCE's moving-average baseline (null before the first rollout).</param>
/// <param name="ReferenceSha256">Hash of the frozen reference's parameters: a resume checks it is the same model.</param>
/// <param name="PreviousKl">The last step's KL, for the KL growth metric (null before the first step).</param>
public sealed record PpoTrainerState(int Step, int OptimizerStep, DataCursor DataCursor, ulong[] RngState, long Episode,
    int SkippedMinibatches, double KlCoef, double? Baseline, string ReferenceSha256, double? PreviousKl = null);

/// <summary>One rollout step's outcome.</summary>
/// <param name="Step">0-based rollout step.</param>
/// <param name="Metrics">TRL-named metrics (objective/kl, policy/clipfrac_avg, …).</param>
/// <param name="Rollout">The rollout (prompts, responses, per-token values).</param>
/// <param name="Scores">Scores after the EOS penalty and clipping.</param>
/// <param name="SkippedMinibatches">Minibatches of this step skipped for non-finite values.</param>
/// <param name="HackingWarning">The reward-hacking monitor's warning at this step, or null.</param>
public sealed record PpoStepReport(int Step, IReadOnlyDictionary<string, double> Metrics, RolloutBatch Rollout, double[] Scores, int SkippedMinibatches,
    string? HackingWarning = null);
