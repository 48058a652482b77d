namespace RlhfCore.Data.Tasks;

/// <summary>
/// A built-in task with a gold reward: the "oracle" that research on reward learning treats as the
/// true objective. The task generates its own prompts and demonstrations (for SFT), and scores any
/// completion, so a pipeline can measure how well a learned reward model and the policy trained on it
/// track the real objective. Every method is deterministic given the <see cref="Rng"/> stream.
/// </summary>
public interface IGoldTask
{
    /// <summary>The task's name, as used in <c>builtin:NAME</c>.</summary>
    string Name { get; }

    /// <summary>An upper bound on a demonstration's length in characters (a generation budget for policies).</summary>
    int MaxCompletionChars { get; }

    /// <summary>A random prompt.</summary>
    string SamplePrompt(Rng rng);

    /// <summary>A random demonstration: a prompt and a completion of the kind SFT learns from.</summary>
    PromptCompletion SampleDemonstration(Rng rng);

    /// <summary>The gold reward of <paramref name="completion"/> for <paramref name="prompt"/> (higher is better).</summary>
    /// <exception cref="FormatException"><paramref name="prompt"/> is not one of this task's prompts.</exception>
    double GoldReward(string prompt, string completion);
}
