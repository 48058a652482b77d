using System.Globalization;

namespace RlhfCore.Data.Tasks;

/// <summary>
/// <see cref="ArithmeticTask"/> behind <see cref="IGoldTask"/>: prompts <c>a+b=</c>, gold reward 1 for
/// the exact sum and 0 otherwise, demonstrations wrong with probability <see cref="ArithmeticTask.DemoErrorRate"/>.
/// </summary>
/// <param name="Task">The problem generator and its settings.</param>
public sealed record ArithmeticGoldTask(ArithmeticTask Task) : IGoldTask
{
    /// <summary>The task with default settings (operands below 100, correct demonstrations).</summary>
    public ArithmeticGoldTask() : this(new ArithmeticTask()) { }

    /// <inheritdoc/>
    public string Name => "arithmetic";

    /// <inheritdoc/>
    /// <remarks>The largest sum plus the largest demonstration error (3).</remarks>
    public int MaxCompletionChars => (2 * (Task.MaxOperand - 1) + 3).ToString(CultureInfo.InvariantCulture).Length;

    /// <inheritdoc/>
    public string SamplePrompt(Rng rng) => Task.SamplePrompt(rng);

    /// <inheritdoc/>
    public PromptCompletion SampleDemonstration(Rng rng) => Task.SampleDemonstration(rng);

    /// <inheritdoc/>
    public double GoldReward(string prompt, string completion) => ArithmeticTask.GoldReward(prompt, completion);
}
