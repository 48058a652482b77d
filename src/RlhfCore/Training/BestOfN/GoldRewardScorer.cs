using RlhfCore.Data.Tasks;

namespace RlhfCore.Training.BestOfN;

/// <summary>Scores by a task's gold reward on the (prompt, completion text) — the oracle a reward model stands in for.</summary>
/// <param name="Name">Name for reports.</param>
/// <param name="Gold">The gold reward of a prompt and a completion text.</param>
public sealed record GoldRewardScorer(string Name, Func<string, string, double> Gold) : ICompletionScorer
{
    /// <summary>The arithmetic task's exact-correctness reward (prompts must be <c>a+b=</c>).</summary>
    public static GoldRewardScorer Arithmetic { get; } = new("gold:arithmetic", ArithmeticTask.GoldReward);

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<Completion> completions) => completions.Select(c => Gold(c.Prompt, c.Text)).ToArray();
}
