namespace RlhfCore.Feedback;

/// <summary>
/// One piece of human feedback on completions of a prompt, as text. <see cref="Completions"/> lists the
/// completions in the order the loss reads them: best first for pairs and rankings, the single rated or
/// labelled completion otherwise.
/// </summary>
/// <param name="Prompt">The context every completion continues.</param>
public abstract record FeedbackRecord(string Prompt)
{
    /// <summary>Source file, for error messages (null for feedback made in memory).</summary>
    public string? FilePath { get; init; }

    /// <summary>Source line (1-based; 0 for feedback made in memory).</summary>
    public int Line { get; init; }

    /// <summary>The completions, best first where there is an order.</summary>
    public abstract IReadOnlyList<string> Completions { get; }

    /// <summary>Where this record came from, as messages name it: <c>file line N</c> or <c>record N</c>.</summary>
    public string Where => FilePath != null ? $"{FilePath} line {Line}" : $"record {Line}";
}

/// <summary>A preference between two completions (Bradley–Terry).</summary>
/// <param name="Prompt">The shared context.</param>
/// <param name="Chosen">The preferred completion.</param>
/// <param name="Rejected">The other completion.</param>
/// <param name="Margin">How strongly <paramref name="Chosen"/> is preferred: the loss is −log σ(r_c − r_r − margin).</param>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected, double Margin = 0) : FeedbackRecord(Prompt)
{
    /// <inheritdoc/>
    public override IReadOnlyList<string> Completions => [Chosen, Rejected];
}

/// <summary>A K-wise ranking of completions (Plackett–Luce), best first.</summary>
/// <param name="Prompt">The shared context.</param>
/// <param name="Ranked">The completions from best to worst; at least two, all different.</param>
public sealed record RankedCompletions(string Prompt, IReadOnlyList<string> Ranked) : FeedbackRecord(Prompt)
{
    /// <inheritdoc/>
    public override IReadOnlyList<string> Completions => Ranked;
}

/// <summary>A numeric rating of one completion (regression).</summary>
/// <param name="Prompt">The context.</param>
/// <param name="Completion">The rated completion.</param>
/// <param name="Rating">The score the reward model learns to predict.</param>
public sealed record RatedCompletion(string Prompt, string Completion, double Rating) : FeedbackRecord(Prompt)
{
    /// <inheritdoc/>
    public override IReadOnlyList<string> Completions => [Completion];
}

/// <summary>An approval or disapproval of one completion (logistic).</summary>
/// <param name="Prompt">The context.</param>
/// <param name="Completion">The judged completion.</param>
/// <param name="Approved">True for thumbs up.</param>
public sealed record LabeledCompletion(string Prompt, string Completion, bool Approved) : FeedbackRecord(Prompt)
{
    /// <inheritdoc/>
    public override IReadOnlyList<string> Completions => [Completion];
}
