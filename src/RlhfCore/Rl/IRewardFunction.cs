namespace RlhfCore.Rl;

/// <summary>
/// Scores finished responses: a reward model, a gold reward, a person. The one scorer interface: PPO calls it
/// once per rollout, best-of-n once per batch of samples, with the decoded prompts and responses (the EOS token
/// removed), row for row.
/// </summary>
public interface IRewardFunction
{
    /// <summary>Short name for reports (<c>reward-model</c>, <c>gold:arithmetic</c>).</summary>
    string Name { get; }

    /// <summary>One score per (prompt, response) pair.</summary>
    double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);
}

/// <summary>A reward computed pair by pair on the host, for example <c>ArithmeticTask.GoldReward</c>.</summary>
/// <param name="Reward">The score of one (prompt, response) pair.</param>
/// <param name="Name">Name for reports.</param>
public sealed record FunctionReward(Func<string, string, double> Reward, string Name = "function") : IRewardFunction
{
    /// <summary>The arithmetic task's exact-correctness reward (prompts must be <c>a+b=</c>), the oracle a reward model stands in for.</summary>
    public static FunctionReward Arithmetic { get; } = new(Data.Tasks.ArithmeticTask.GoldReward, "gold:arithmetic");

    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var scores = new double[prompts.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = Reward(prompts[i], responses[i]);
        return scores;
    }
}
