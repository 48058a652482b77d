using RlhfCore.Model;

namespace RlhfCore.Training.Reward;

/// <summary>
/// Scores token sequences with a reward model in batches: each sequence (prompt tokens followed by
/// completion tokens, EOS included when the completion stopped at one) is read at its last token. A
/// sequence longer than <see cref="SeqLen"/> keeps its last <see cref="SeqLen"/> tokens (the prompt's
/// oldest go first), as <c>PromptOverflow.TruncateLeft</c> does in training. Allocates once.
/// </summary>
public sealed class RewardScorer : IDisposable
{
    private readonly RewardStep _step;
    private readonly RewardBatch _batch;

    /// <summary>Sequences per forward pass.</summary>
    public int MaxBatch { get; }

    /// <summary>Positions per sequence (at most the model's context).</summary>
    public int SeqLen { get; }

    /// <summary>A scorer for <paramref name="model"/> (with the reward head; not owned).</summary>
    public RewardScorer(GptModel model, int maxBatch, int seqLen)
    {
        if (seqLen < 1 || seqLen > model.Config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, $"must be in [1, {model.Config.MaxSeqLen}] (the model's context)");
        MaxBatch = maxBatch;
        SeqLen = seqLen;
        _batch = new RewardBatch(maxBatch, seqLen);
        _step = new RewardStep(model, maxBatch, seqLen);
    }

    /// <summary>One score per sequence, in order.</summary>
    public float[] Score(IReadOnlyList<int[]> sequences)
    {
        var scores = new float[sequences.Count];
        for (int start = 0; start < sequences.Count; start += MaxBatch)
        {
            _batch.Clear();
            int end = Math.Min(sequences.Count, start + MaxBatch);
            for (int i = start; i < end; i++)
            {
                var seq = sequences[i];
                if (seq.Length == 0) throw new ArgumentException($"sequence {i} is empty; a reward model scores at least one token");
                _batch.AddRow(seq.AsSpan(Math.Max(0, seq.Length - SeqLen)));
            }
            var batchScores = _step.Score(_batch);
            for (int i = start; i < end; i++) scores[i] = (float)batchScores[i - start];
        }
        return scores;
    }

    /// <summary>One score per (prompt, completion) pair: the completion's tokens scored after the prompt's.</summary>
    public float[] Score(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions)
    {
        if (prompts.Count != completions.Count)
            throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        return Score(prompts.Zip(completions, (p, c) => (int[])[.. p, .. c]).ToArray());
    }

    /// <inheritdoc/>
    public void Dispose() => _step.Dispose();
}
