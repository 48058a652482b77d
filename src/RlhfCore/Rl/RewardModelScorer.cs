using RlhfCore.Data;
using RlhfCore.Model;
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

/// <summary>
/// Scores responses with a reward model or an ensemble of them, exactly as <c>RewardTrainer</c> trained
/// them: prompt and response tokenized separately, the end-of-text token appended, the score read at that
/// last token, the last <c>maxTokens</c> tokens kept when a sequence is longer. (Reading the score
/// anywhere else — at the response's last character, say — reads a position the reward head was never
/// trained on.) An ensemble's member scores are combined by a <see cref="RewardAggregation"/>.
/// </summary>
public sealed class RewardModelScorer : IEnsembleReward, IDisposable
{
    private readonly ITokenizer _tokenizer;
    private readonly EnsembleScorer _scorer;
    private readonly RewardAggregation _aggregation;

    /// <summary>A scorer over one <paramref name="rewardModel"/> (not owned), <paramref name="batch"/> sequences per pass.</summary>
    public RewardModelScorer(GptModel rewardModel, ITokenizer tokenizer, int batch, int maxTokens)
        : this([rewardModel], new RewardAggregation(), tokenizer, batch, maxTokens) { }

    /// <summary>A scorer over the <paramref name="members"/> of an ensemble (not owned), combined by <paramref name="aggregation"/>.</summary>
    /// <param name="sharedTrunk">The members differ only in their reward heads (a shared-trunk ensemble): the trunk runs once.</param>
    public RewardModelScorer(IReadOnlyList<GptModel> members, RewardAggregation aggregation, ITokenizer tokenizer, int batch, int maxTokens, bool sharedTrunk = false)
    {
        foreach (var m in members)
            if (!m.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("the reward model has no reward head (score.weight)");
        _aggregation = aggregation.ValidateFor(members.Count, $"the reward model ({members.Count} member(s))");
        _tokenizer = tokenizer;
        _scorer = new EnsembleScorer(members, batch, maxTokens, sharedTrunk);
    }

    /// <inheritdoc/>
    public int Members => _scorer.Count;

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses) => Aggregate(ScoreEnsemble(prompts, responses));

    /// <inheritdoc/>
    public double[] Aggregate(EnsembleScores scores) => _aggregation.Apply(scores);

    /// <inheritdoc/>
    public EnsembleScores ScoreEnsemble(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        if (prompts.Count != responses.Count) throw new ArgumentException($"{prompts.Count} prompts but {responses.Count} responses");
        var sequences = new int[prompts.Count][];
        var ids = new List<int>();
        for (int i = 0; i < sequences.Length; i++)
        {
            ids.Clear();
            _tokenizer.Encode(prompts[i], ids);
            _tokenizer.Encode(responses[i], ids);
            ids.Add(_tokenizer.EndOfText);
            sequences[i] = ids.ToArray();
        }
        return _scorer.Score(sequences);
    }

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();
}
