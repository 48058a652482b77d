using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>
/// Scores with a reward-head <see cref="GptModel"/>: each pair is tokenized as prompt text followed by
/// response text (keeping the last context-many tokens when longer), right-padded into batches, and the
/// reward head's output at the last real token is the score. Activations are allocated once.
/// </summary>
public sealed class RewardModelScorer : IRewardFunction, IDisposable
{
    private readonly GptModel _model;
    private readonly ITokenizer _tokenizer;
    private readonly GptActivations _acts;
    private readonly int _batch, _T;

    /// <summary>A scorer running batches of up to <paramref name="batch"/> pairs of up to <paramref name="maxTokens"/> tokens.</summary>
    public RewardModelScorer(GptModel rewardModel, ITokenizer tokenizer, int batch, int maxTokens)
    {
        if (!rewardModel.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("the reward model has no reward head (score.weight)");
        if (maxTokens < 1 || maxTokens > rewardModel.Config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens, $"must be in [1, {rewardModel.Config.MaxSeqLen}] (the reward model's context)");
        _model = rewardModel;
        _tokenizer = tokenizer;
        _batch = batch;
        _T = maxTokens;
        _acts = new GptActivations(rewardModel.Backend, rewardModel.Config, batch, maxTokens);
    }

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var be = _model.Backend;
        var scores = new double[prompts.Count];
        int N = _batch * _T;
        var tokens = new int[N];
        var positions = new int[N];
        var mask = new int[N];
        var last = new int[_batch];
        var rewards = new float[_batch];
        for (int start = 0; start < scores.Length; start += _batch)
        {
            int B = Math.Min(_batch, scores.Length - start);
            Array.Clear(tokens); Array.Clear(positions); Array.Clear(mask);
            for (int b = 0; b < B; b++)
            {
                int[] ids = _tokenizer.Encode(prompts[start + b] + responses[start + b]);
                if (ids.Length == 0) ids = [_tokenizer.EndOfText];
                int skip = Math.Max(0, ids.Length - _T), len = ids.Length - skip;
                for (int t = 0; t < len; t++)
                {
                    tokens[b * _T + t] = ids[skip + t];
                    positions[b * _T + t] = t;
                    mask[b * _T + t] = 1;
                }
                last[b] = b * _T + len - 1;
            }
            be.Upload<int>(_acts.Tokens.Slice(0, B * _T), tokens.AsSpan(0, B * _T));
            be.Upload<int>(_acts.Positions.Slice(0, B * _T), positions.AsSpan(0, B * _T));
            be.Upload<int>(_acts.KeyMask.Slice(0, B * _T), mask.AsSpan(0, B * _T));
            be.Upload<int>(_acts.LastRows.Slice(0, B), last.AsSpan(0, B));
            _model.Forward(_acts, B, _T, computeLogits: false);
            be.Download<float>(_acts.Rewards.Slice(0, B), rewards.AsSpan(0, B));
            for (int b = 0; b < B; b++) scores[start + b] = rewards[b];
        }
        return scores;
    }

    /// <inheritdoc/>
    public void Dispose() => _acts.Dispose();
}
