using RlhfCore.Data;
using RlhfCore.Data.Tasks;

namespace RlhfCore.Training.BestOfN;

/// <summary>Prompts to sample from: TRL's prompt-only layout <c>{"prompt"}</c>, or a built-in task's.</summary>
public static class PromptSet
{
    /// <summary>
    /// The prompts of <paramref name="source"/>: <c>builtin:arithmetic</c> generates <paramref name="count"/>
    /// addition problems from <paramref name="seed"/>; a JSONL file gives one prompt per line.
    /// </summary>
    /// <exception cref="DataFormatException">A line lacks a string "prompt"; the message names the file and line.</exception>
    public static List<string> Load(string source, int count, ulong seed, int maxLineBytes = JsonlReader.DefaultMaxLineBytes)
    {
        if (source == "builtin:arithmetic")
        {
            var task = new ArithmeticTask();
            var rng = new Rng(seed ^ 0xB057);
            return Enumerable.Range(0, count).Select(_ => task.SamplePrompt(rng)).ToList();
        }
        if (source.StartsWith("builtin:", StringComparison.Ordinal))
            throw new ArgumentException($"unknown built-in prompts '{source}' (builtin:arithmetic)");
        if (!File.Exists(source)) throw new FileNotFoundException($"prompts not found: {source}", source);
        var prompts = JsonlReader.Read(source, maxLineBytes).Select(r => r.GetString("prompt")).ToList();
        return prompts.Count > 0 ? prompts : throw new DataFormatException(source, null, null, "holds no prompts");
    }
}
