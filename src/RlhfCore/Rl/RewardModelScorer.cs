using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Rl;

/// <summary>
/// Scores responses with a reward model, exactly as <see cref="RewardTrainer"/> trained it: prompt and
/// response tokenized separately, the end-of-text token appended, the score read at that last token,
/// the last <c>maxTokens</c> tokens kept when a sequence is longer. (Reading the score anywhere else —
/// at the response's last character, say — reads a position the reward head was never trained on.)
/// </summary>
public sealed class RewardModelScorer : IRewardFunction, IDisposable
{
    private readonly ITokenizer _tokenizer;
    private readonly RewardScorer _scorer;

    /// <summary>A scorer over <paramref name="rewardModel"/> (not owned), <paramref name="batch"/> sequences per pass.</summary>
    public RewardModelScorer(GptModel rewardModel, ITokenizer tokenizer, int batch, int maxTokens)
    {
        if (!rewardModel.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("the reward model has no reward head (score.weight)");
        _tokenizer = tokenizer;
        _scorer = new RewardScorer(rewardModel, batch, maxTokens);
    }

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
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
        return Array.ConvertAll(_scorer.Score(sequences), s => (double)s);
    }

    /// <inheritdoc/>
    public void Dispose() => _scorer.Dispose();
}
