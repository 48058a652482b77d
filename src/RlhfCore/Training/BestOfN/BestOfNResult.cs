namespace RlhfCore.Training.BestOfN;

/// <summary>The n samples of one prompt, their scores, and the best one.</summary>
/// <param name="Prompt">The prompt text.</param>
/// <param name="Samples">The n completions, in sampling order.</param>
/// <param name="Scores">Their scores.</param>
public sealed record BestOfNPrompt(string Prompt, IReadOnlyList<Completion> Samples, IReadOnlyList<double> Scores)
{
    /// <summary>Index of the highest score (the first on ties).</summary>
    public int BestIndex => BestOfFirst(Scores.Count);

    /// <summary>The best completion.</summary>
    public Completion Best => Samples[BestIndex];

    /// <summary>The best score.</summary>
    public double BestScore => Scores[BestIndex];

    /// <summary>Index of the best among the first <paramref name="k"/> samples (best-of-k from the same draws).</summary>
    public int BestOfFirst(int k)
    {
        if (k < 1 || k > Scores.Count) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in [1, {Scores.Count}]");
        int best = 0;
        for (int i = 1; i < k; i++) if (Scores[i] > Scores[best]) best = i;
        return best;
    }
}

/// <summary>Best-of-n over a set of prompts.</summary>
/// <param name="N">Samples per prompt.</param>
/// <param name="Prompts">Each prompt's samples.</param>
/// <param name="Scorer">The scorer's name.</param>
public sealed record BestOfNResult(int N, IReadOnlyList<BestOfNPrompt> Prompts, string Scorer)
{
    /// <summary>Mean over prompts of the best score: the best-of-n policy's expected score.</summary>
    public double MeanBestScore => Prompts.Average(p => p.BestScore);

    /// <summary>Mean over every sample: the plain policy's expected score.</summary>
    public double MeanSampleScore => Prompts.SelectMany(p => p.Scores).Average();

    /// <summary>Mean over prompts of the best of the first <paramref name="k"/> samples (best-of-k for k ≤ n).</summary>
    public double MeanBestOfFirst(int k) => Prompts.Average(p => p.Scores[p.BestOfFirst(k)]);
}
