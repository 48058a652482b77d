namespace RlhfCore.Training.BestOfN;

/// <summary>Scores completions: a reward model, or a task's gold reward.</summary>
public interface ICompletionScorer
{
    /// <summary>Short name for reports (<c>reward-model</c>, <c>gold:arithmetic</c>).</summary>
    string Name { get; }

    /// <summary>One score per completion, in order; higher is better.</summary>
    double[] Score(IReadOnlyList<Completion> completions);
}
