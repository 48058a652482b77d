using RlhfCore.Data;
using RlhfCore.Data.Tasks;

namespace RlhfCore.Rl;

/// <summary>Prompts for RL: a JSONL file of <c>{"prompt"}</c> objects (TRL's key), or <c>builtin:arithmetic</c>.</summary>
public static class PromptSource
{
    /// <summary>The built-in arithmetic prompts' name.</summary>
    public const string Arithmetic = "builtin:arithmetic";

    /// <summary>
    /// The prompts of <paramref name="spec"/>: <see cref="Arithmetic"/> draws <paramref name="poolSize"/>
    /// <c>a+b=</c> prompts from <paramref name="seed"/>; anything else is a JSONL path.
    /// </summary>
    /// <exception cref="DataFormatException">A line lacks "prompt", it is not a string, or it is empty.</exception>
    public static List<string> Load(string spec, int poolSize, ulong seed, int maxLineBytes = JsonlReader.DefaultMaxLineBytes)
    {
        if (spec == Arithmetic)
        {
            if (poolSize < 1) throw new ArgumentException($"--prompt-pool must be positive, got {poolSize}");
            var task = new ArithmeticTask();
            var rng = new Rng(seed ^ 0xA417_0000UL);
            return Enumerable.Range(0, poolSize).Select(_ => task.SamplePrompt(rng)).ToList();
        }
        var prompts = new List<string>();
        foreach (var record in JsonlReader.Read(spec, maxLineBytes))
        {
            string prompt = record.GetString("prompt");
            if (prompt.Length == 0) throw record.Error("prompt", "is empty");
            prompts.Add(prompt);
        }
        if (prompts.Count == 0) throw new DataFormatException(spec, null, null, "holds no prompts");
        return prompts;
    }
}
