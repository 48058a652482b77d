using RlhfCore.Rl;
using RlhfCore.Training;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ppo;

/// <summary>
/// What an RL checkpoint stores besides the policy's tensors and the AdamW moments: the state every trainer
/// has (<see cref="TrainerState"/>: step, optimizer step, prompt cursor, RNG, skipped minibatches) and the
/// RL-only rest, kept apart so that a checkpoint writes each value once.
/// </summary>
/// <param name="Common">Rollout steps completed, AdamW's step, the prompt stream's position, the sampling and shuffling stream, and the minibatches skipped for a non-finite loss or gradient.</param>
/// <param name="Rl">The RL-only state.</param>
public sealed record PpoTrainerState(TrainerState Common, PpoRlState Rl);

/// <summary>The RL-only part of a checkpoint (<c>rl_state.json</c>).</summary>
/// <param name="Episode">Sequences sampled so far (TRL's <c>episode</c>).</param>
/// <param name="KlCoef">The KL controller's current β.</param>
/// <param name="Baseline">REINFORCE's moving-average baseline (null before the first rollout).</param>
/// <param name="ReferenceSha256">Hash of the frozen reference's parameters: a resume checks it is the same model.</param>
/// <param name="PreviousKl">The last step's KL, for the KL growth metric (null before the first step).</param>
public sealed record PpoRlState(long Episode, double KlCoef, double? Baseline, string ReferenceSha256, double? PreviousKl = null);

/// <summary>One rollout step's outcome.</summary>
/// <param name="Step">0-based rollout step.</param>
/// <param name="Metrics">TRL-named metrics (objective/kl, policy/clipfrac_avg, …).</param>
/// <param name="Rollout">The rollout (prompts, responses, per-token values).</param>
/// <param name="Scores">Scores after the EOS penalty and clipping.</param>
/// <param name="SkippedMinibatches">Minibatches of this step skipped for non-finite values.</param>
/// <param name="HackingWarning">The reward-hacking monitor's warning at this step, or null.</param>
public sealed record PpoStepReport(int Step, IReadOnlyDictionary<string, double> Metrics, RolloutBatch Rollout, double[] Scores, int SkippedMinibatches,
    string? HackingWarning = null);
