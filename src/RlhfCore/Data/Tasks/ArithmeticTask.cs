using System.Globalization;

namespace RlhfCore.Data.Tasks;

/// <summary>One prompt and its demonstrated completion.</summary>
/// <param name="Prompt">For example <c>17+25=</c>.</param>
/// <param name="Completion">For example <c>42</c>.</param>
public readonly record struct PromptCompletion(string Prompt, string Completion);

/// <summary>
/// Addition problems, a task the project generates itself: prompts <c>a+b=</c> with operands below
/// <see cref="MaxOperand"/>, completions the decimal sum. Its gold reward is exact correctness, so a
/// policy's quality is measurable without people. Demonstrations can be made partly wrong (off by a
/// small amount) with <see cref="DemoErrorRate"/>, as imperfect human demonstrations are.
/// </summary>
/// <param name="MaxOperand">Operands are drawn from [0, MaxOperand).</param>
/// <param name="DemoErrorRate">Probability that a demonstration's answer is off by 1 to 3.</param>
public sealed record ArithmeticTask(int MaxOperand = 100, double DemoErrorRate = 0)
{
    /// <summary>A random prompt.</summary>
    public string SamplePrompt(Rng rng) =>
        string.Create(CultureInfo.InvariantCulture, $"{rng.NextInt(MaxOperand)}+{rng.NextInt(MaxOperand)}=");

    /// <summary>A random demonstration (wrong with probability <see cref="DemoErrorRate"/>).</summary>
    public PromptCompletion SampleDemonstration(Rng rng)
    {
        string prompt = SamplePrompt(rng);
        int answer = Solve(prompt);
        if (DemoErrorRate > 0 && rng.NextDouble() < DemoErrorRate)
        {
            int delta = 1 + rng.NextInt(3);
            answer = rng.NextInt(2) == 0 || answer < delta ? answer + delta : answer - delta;
        }
        return new PromptCompletion(prompt, answer.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The correct sum for a prompt of the form <c>a+b=</c>.</summary>
    public static int Solve(string prompt)
    {
        int plus = prompt.IndexOf('+'), eq = prompt.IndexOf('=');
        if (plus <= 0 || eq != prompt.Length - 1 || eq < plus + 2
            || !int.TryParse(prompt.AsSpan(0, plus), NumberStyles.None, CultureInfo.InvariantCulture, out int a)
            || !int.TryParse(prompt.AsSpan(plus + 1, eq - plus - 1), NumberStyles.None, CultureInfo.InvariantCulture, out int b))
            throw new FormatException($"'{prompt}' is not an addition prompt of the form a+b=");
        return a + b;
    }

    /// <summary>Gold reward: 1 when the completion is exactly the correct sum (surrounding whitespace ignored), else 0.</summary>
    public static double GoldReward(string prompt, string completion) =>
        completion.Trim() == Solve(prompt).ToString(CultureInfo.InvariantCulture) ? 1.0 : 0.0;
}
