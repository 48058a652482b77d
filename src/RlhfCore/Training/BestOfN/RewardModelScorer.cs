using RlhfCore.Model;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// Scores completions with a reward model or an ensemble (trunks with <see cref="ModelHeads.Reward"/>)
/// through the reward trainer's own <see cref="RewardScorer"/>: each <c>[prompt | completion]</c> token
/// sequence (the end-of-text token included when it was generated) is scored at its last token, padding
/// masked out, so a sequence scores the same alone or in a batch. An ensemble's scores are combined by a
/// <see cref="RewardAggregation"/>.
/// </summary>
public sealed class RewardModelScorer : ICompletionScorer, IDisposable
{
    private readonly EnsembleScorer _scorer;
    private readonly RewardAggregation _aggregation;

    /// <inheritdoc/>
    public string Name { get; }

    /// <summary>Scores with one reward model, up to <paramref name="maxBatch"/> sequences of up to <paramref name="seqLen"/> tokens per pass.</summary>
    public RewardModelScorer(GptModel rewardModel, int maxBatch, int seqLen) : this([rewardModel], new RewardAggregation(), maxBatch, seqLen) { }

    /// <summary>Scores with the <paramref name="members"/> of an ensemble (not owned), combined by <paramref name="aggregation"/>.</summary>
    /// <param name="sharedTrunk">The members differ only in their reward heads (a shared-trunk ensemble): the trunk runs once.</param>
    public RewardModelScorer(IReadOnlyList<GptModel> members, RewardAggregation aggregation, int maxBatch, int seqLen, bool sharedTrunk = false)
    {
        foreach (var m in members)
            if (!m.Heads.HasFlag(ModelHeads.Reward))
                throw new ArgumentException("the scoring model has no reward head (train one with rlhf reward, or score with a gold reward)");
        _aggregation = aggregation.ValidateFor(members.Count, $"the reward model ({members.Count} member(s))");
        _scorer = new EnsembleScorer(members, maxBatch, seqLen, sharedTrunk);
        Name = members.Count == 1 ? "reward-model" : $"reward-ensemble-{members.Count}:{aggregation.Aggregate.ToString().ToLowerInvariant()}";
    }

    /// <summary>Every member's score of every completion, and their statistics.</summary>
    public EnsembleScores ScoreEnsemble(IReadOnlyList<Completion> completions) =>
        _scorer.Score(completions.Select(c => c.PromptTokens).ToArray(), completions.Select(c => c.Tokens).ToArray());

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<Completion> completions) => _aggregation.Apply(ScoreEnsemble(completions));

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();
}
