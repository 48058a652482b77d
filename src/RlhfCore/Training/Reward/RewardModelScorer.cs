using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training.Reward.Ensemble;

namespace RlhfCore.Training.Reward;

/// <summary>
/// Scores responses with a reward model or an ensemble of them, exactly as <c>RewardTrainer</c> trained
/// them: prompt and response tokenized separately, the end-of-text token appended, the score read at that
/// last token, the last <c>maxTokens</c> tokens kept when a sequence is longer. (Reading the score
/// anywhere else — at the response's last character, say — reads a position the reward head was never
/// trained on.) An ensemble's member scores are combined by a <see cref="RewardAggregation"/>. The one
/// reward-model scorer of PPO, best-of-n, overoptimization studies and the pipeline, so a completion scores the
/// same in each. The owner of a scorer disposes it (it holds the models' activations on the device).
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
        Name = members.Count == 1 ? "reward-model" : $"reward-ensemble-{members.Count}:{aggregation.Aggregate.ToString().ToLowerInvariant()}";
    }

    /// <inheritdoc/>
    public string Name { get; }

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
