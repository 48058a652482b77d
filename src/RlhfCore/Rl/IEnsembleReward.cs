using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Rl;

/// <summary>A reward function that can also say how much an ensemble of reward models disagrees.</summary>
public interface IEnsembleReward : IRewardFunction
{
    /// <summary>Members of the ensemble (1 for a single model).</summary>
    int Members { get; }

    /// <summary>Every member's score of every (prompt, response) and their statistics.</summary>
    EnsembleScores ScoreEnsemble(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);

    /// <summary>The aggregate of <paramref name="scores"/> that <see cref="IRewardFunction.Score"/> returns.</summary>
    double[] Aggregate(EnsembleScores scores);
}
