using System.Globalization;
using RlhfCore.Data.Tasks;

namespace RlhfCore.Feedback;

/// <summary>
/// Noiseless synthetic preferences on the arithmetic task: for a prompt <c>a+b=</c> the correct sum is
/// chosen over a wrong one drawn uniformly from the other possible sums, so a reward model that learns
/// correctness orders every pair. Used by <c>rlhf reward --data builtin:arithmetic</c> and the tests.
/// </summary>
public static class ArithmeticPreferences
{
    /// <summary><paramref name="count"/> pairs from <paramref name="task"/>'s prompts, deterministic in <paramref name="seed"/>.</summary>
    public static List<PreferencePair> Generate(ArithmeticTask task, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(task.MaxOperand, 2);
        var rng = new Rng(seed);
        int sums = 2 * task.MaxOperand - 1;
        var pairs = new List<PreferencePair>(count);
        for (int i = 0; i < count; i++)
        {
            string prompt = task.SamplePrompt(rng);
            int answer = ArithmeticTask.Solve(prompt);
            int wrong = rng.NextInt(sums - 1);
            if (wrong >= answer) wrong++;
            pairs.Add(new PreferencePair(prompt, Text(answer), Text(wrong)) { Line = i + 1 });
        }
        return pairs;
    }

    private static string Text(int n) => n.ToString(CultureInfo.InvariantCulture);
}
