namespace RlhfCore.Rl;

/// <summary>
/// Scores finished responses: a reward model, a gold reward, a person. The trainer calls it once per
/// rollout with the decoded prompts and responses (the EOS token removed), row for row.
/// </summary>
public interface IRewardFunction
{
    /// <summary>One score per (prompt, response) pair.</summary>
    double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses);
}

/// <summary>A reward computed pair by pair on the host, for example <c>ArithmeticTask.GoldReward</c>.</summary>
/// <param name="Reward">The score of one (prompt, response) pair.</param>
public sealed record FunctionReward(Func<string, string, double> Reward) : IRewardFunction
{
    /// <inheritdoc/>
    public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
    {
        var scores = new double[prompts.Count];
        for (int i = 0; i < scores.Length; i++) scores[i] = Reward(prompts[i], responses[i]);
        return scores;
    }
}
