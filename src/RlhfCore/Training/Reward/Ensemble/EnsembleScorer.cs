namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// Scores token sequences with every member of a <see cref="RewardEnsemble"/> (each through its own
/// <see cref="RewardScorer"/>, so each member reads exactly what it was trained on) and returns the
/// per-sample statistics. Allocates once per member.
/// </summary>
public sealed class EnsembleScorer : IDisposable
{
    private readonly RewardScorer[] _scorers;

    /// <summary>Members.</summary>
    public int Count => _scorers.Length;

    /// <summary>A scorer for <paramref name="members"/> (not owned), <paramref name="maxBatch"/> sequences per pass of up to <paramref name="seqLen"/> tokens.</summary>
    public EnsembleScorer(IReadOnlyList<Model.GptModel> members, int maxBatch, int seqLen)
    {
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member", nameof(members));
        _scorers = members.Select(m => new RewardScorer(m, maxBatch, seqLen)).ToArray();
    }

    /// <summary>A scorer for <paramref name="ensemble"/>'s members.</summary>
    public EnsembleScorer(RewardEnsemble ensemble, int maxBatch, int seqLen) : this(ensemble.Members, maxBatch, seqLen) { }

    /// <summary>Every member's score of every sequence, and their statistics.</summary>
    public EnsembleScores Score(IReadOnlyList<int[]> sequences) =>
        new(_scorers.Select(s => Array.ConvertAll(s.Score(sequences), x => (double)x)).ToList());

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
    }
}
