using RlhfCore.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// Scores completions with a reward model (a trunk with <see cref="ModelHeads.Reward"/>) through the
/// reward trainer's own <see cref="RewardScorer"/>: each <c>[prompt | completion]</c> token sequence (the
/// end-of-text token included when it was generated) is scored at its last token, padding masked out, so
/// a sequence scores the same alone or in a batch.
/// </summary>
public sealed class RewardModelScorer : ICompletionScorer, IDisposable
{
    private readonly RewardScorer _scorer;

    /// <inheritdoc/>
    public string Name => "reward-model";

    /// <summary>Scores up to <paramref name="maxBatch"/> sequences of up to <paramref name="seqLen"/> tokens per pass.</summary>
    public RewardModelScorer(GptModel rewardModel, int maxBatch, int seqLen)
    {
        if (!rewardModel.Heads.HasFlag(ModelHeads.Reward))
            throw new ArgumentException("the scoring model has no reward head (train one with rlhf reward, or score with a gold reward)");
        _scorer = new RewardScorer(rewardModel, maxBatch, seqLen);
    }

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<Completion> completions) =>
        Array.ConvertAll(_scorer.Score(completions.Select(c => c.PromptTokens).ToArray(), completions.Select(c => c.Tokens).ToArray()), s => (double)s);

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();
}
