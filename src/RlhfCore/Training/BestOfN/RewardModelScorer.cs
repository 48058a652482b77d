using RlhfCore.Backends;
using RlhfCore.Model;

namespace RlhfCore.Training.BestOfN;

/// <summary>
/// Scores completions with a reward model (a trunk with <see cref="ModelHeads.Reward"/>): each
/// <c>[prompt | completion]</c> sequence (end-of-text included when generated) is one right-padded row, the
/// trunk runs without the LM head, and the score is the reward head at the row's last real token. Padding is
/// masked out, so a row scores the same alone or in a batch.
/// </summary>
public sealed class RewardModelScorer : ICompletionScorer, IDisposable
{
    private readonly GptModel _model;
    private readonly IBackend _be;
    private readonly GptActivations _acts;
    private readonly int _maxBatch, _seqLen;
    private readonly int[] _tokens, _positions, _mask, _lastRows;
    private readonly float[] _scores;

    /// <inheritdoc/>
    public string Name => "reward-model";

    /// <summary>Scores up to <paramref name="maxBatch"/> sequences of up to <paramref name="seqLen"/> tokens per pass.</summary>
    public RewardModelScorer(GptModel rewardModel, int maxBatch, int seqLen)
    {
        if (!rewardModel.Heads.HasFlag(ModelHeads.Reward))
            throw new ArgumentException("the scoring model has no reward head (train one with rlhf reward, or score with a gold reward)");
        if (seqLen > rewardModel.Config.MaxSeqLen)
            throw new ArgumentException($"sequences of {seqLen} tokens exceed the reward model's context of {rewardModel.Config.MaxSeqLen}");
        _model = rewardModel;
        _be = rewardModel.Backend;
        _maxBatch = maxBatch;
        _seqLen = seqLen;
        _acts = new GptActivations(_be, rewardModel.Config, maxBatch, seqLen);
        _tokens = new int[maxBatch * seqLen];
        _positions = new int[maxBatch * seqLen];
        _mask = new int[maxBatch * seqLen];
        _lastRows = new int[maxBatch];
        _scores = new float[maxBatch];
    }

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<Completion> completions)
    {
        var result = new double[completions.Count];
        for (int start = 0; start < completions.Count; start += _maxBatch)
        {
            int B = Math.Min(_maxBatch, completions.Count - start), T = _seqLen, V = _model.Config.VocabSize;
            for (int b = 0; b < B; b++)
            {
                var c = completions[start + b];
                int len = c.PromptTokens.Length + c.Tokens.Length;
                if (len > T) throw new ArgumentException($"prompt + completion is {len} tokens, longer than the scorer's {T}");
                for (int t = 0; t < T; t++)
                {
                    int n = b * T + t;
                    bool real = t < len;
                    int id = !real ? 0 : t < c.PromptTokens.Length ? c.PromptTokens[t] : c.Tokens[t - c.PromptTokens.Length];
                    if ((uint)id >= (uint)V) throw new ArgumentException($"token id {id} is outside the reward model's vocabulary [0, {V})");
                    _tokens[n] = id;
                    _positions[n] = real ? t : 0;
                    _mask[n] = real ? 1 : 0;
                }
                _lastRows[b] = b * T + len - 1;
            }
            _be.Upload<int>(_acts.Tokens.Slice(0, B * T), _tokens.AsSpan(0, B * T));
            _be.Upload<int>(_acts.Positions.Slice(0, B * T), _positions.AsSpan(0, B * T));
            _be.Upload<int>(_acts.KeyMask.Slice(0, B * T), _mask.AsSpan(0, B * T));
            _be.Upload<int>(_acts.LastRows.Slice(0, B), _lastRows.AsSpan(0, B));
            _model.Forward(_acts, B, T, computeLogits: false);
            _be.Download<float>(_acts.Rewards.Slice(0, B), _scores.AsSpan(0, B));
            for (int b = 0; b < B; b++) result[start + b] = _scores[b];
        }
        return result;
    }

    /// <inheritdoc/>
    public void Dispose() => _acts.Dispose();
}
