namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// Scores token sequences with every member of a <see cref="RewardEnsemble"/> and returns the per-sample
/// statistics. Members with their own trunks each run through their own <see cref="RewardScorer"/>, so each
/// reads exactly what it was trained on (K forward passes). A shared-trunk ensemble runs member 0's trunk
/// once and applies every member's head r_k = w_k·h to the hidden state h in float64 (one forward pass).
/// Allocates once.
/// </summary>
public sealed class EnsembleScorer : IDisposable
{
    private readonly RewardScorer[] _scorers = [];
    private readonly RewardStep? _trunk;
    private readonly RewardBatch? _batch;
    private readonly float[][] _heads = [];
    private readonly float[] _hidden = [];
    private readonly int _maxBatch, _seqLen, _count;

    /// <summary>Members.</summary>
    public int Count => _count;

    /// <summary>
    /// A scorer for <paramref name="members"/> (not owned), <paramref name="maxBatch"/> sequences per pass of up to
    /// <paramref name="seqLen"/> tokens; with <paramref name="sharedTrunk"/> the members must differ only in their heads.
    /// </summary>
    public EnsembleScorer(IReadOnlyList<Model.GptModel> members, int maxBatch, int seqLen, bool sharedTrunk = false)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member", nameof(members));
        _count = members.Count;
        if (!sharedTrunk)
        {
            _scorers = members.Select(m => new RewardScorer(m, maxBatch, seqLen)).ToArray();
            return;
        }
        if (seqLen < 1 || seqLen > members[0].Config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(seqLen), seqLen, $"must be in [1, {members[0].Config.MaxSeqLen}] (the model's context)");
        _maxBatch = maxBatch;
        _seqLen = seqLen;
        _trunk = new RewardStep(members[0], maxBatch, seqLen);
        _batch = new RewardBatch(maxBatch, seqLen);
        _heads = members.Select(LinearHeads.Head).ToArray();
        _hidden = new float[maxBatch * members[0].Config.Channels];
    }

    /// <summary>A scorer for <paramref name="ensemble"/>'s members (sharing the trunk pass when the ensemble does).</summary>
    public EnsembleScorer(RewardEnsemble ensemble, int maxBatch, int seqLen) : this(ensemble.Members, maxBatch, seqLen, ensemble.SharedTrunk) { }

    /// <summary>Every member's score of every sequence, and their statistics.</summary>
    public EnsembleScores Score(IReadOnlyList<int[]> sequences) =>
        new(_trunk == null ? _scorers.Select(s => Array.ConvertAll(s.Score(sequences), x => (double)x)).ToList() : SharedScores(sequences));

    private List<double[]> SharedScores(IReadOnlyList<int[]> sequences)
    {
        var scores = _heads.Select(_ => new double[sequences.Count]).ToList();
        int C = _heads[0].Length;
        for (int start = 0; start < sequences.Count; start += _maxBatch)
        {
            _batch!.Clear();
            int end = Math.Min(sequences.Count, start + _maxBatch);
            for (int i = start; i < end; i++)
            {
                if (sequences[i].Length == 0) throw new ArgumentException($"sequence {i} is empty; a reward model scores at least one token");
                _batch.AddRow(sequences[i].AsSpan(Math.Max(0, sequences[i].Length - _seqLen)));
            }
            _trunk!.Features(_batch, _hidden);
            for (int i = start; i < end; i++)
            {
                var h = _hidden.AsSpan((i - start) * C, C);
                for (int k = 0; k < _heads.Length; k++)
                {
                    double s = 0;
                    for (int c = 0; c < C; c++) s += (double)_heads[k][c] * h[c];
                    scores[k][i] = s;
                }
            }
        }
        return scores;
    }

    /// <summary>The same for (prompt, completion) token pairs.</summary>
    public EnsembleScores Score(IReadOnlyList<int[]> prompts, IReadOnlyList<int[]> completions)
    {
        if (prompts.Count != completions.Count) throw new ArgumentException($"{prompts.Count} prompts but {completions.Count} completions");
        return Score(prompts.Zip(completions, (p, c) => (int[])[.. p, .. c]).ToArray());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var s in _scorers) s.Dispose();
        _trunk?.Dispose();
    }
}
