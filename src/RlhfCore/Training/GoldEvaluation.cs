using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.Model;

namespace RlhfCore.Training;

/// <summary>A policy's completions of some prompts and their gold rewards.</summary>
/// <param name="Prompts">The prompts, in order.</param>
/// <param name="Completions">Decoded completions (EOS removed).</param>
/// <param name="Gold">Gold reward of each completion.</param>
public sealed record GoldEvaluationResult(IReadOnlyList<string> Prompts, IReadOnlyList<string> Completions, IReadOnlyList<double> Gold)
{
    /// <summary>Mean gold reward (for arithmetic: the accuracy).</summary>
    public double MeanGold => Gold.Count == 0 ? double.NaN : Gold.Average();
}

/// <summary>Scores a policy against a built-in task's gold reward (greedy or sampled completions).</summary>
public static class GoldEvaluation
{
    /// <summary>Fixed evaluation prompts for <paramref name="task"/>: the same for every policy compared.</summary>
    public static string[] Prompts(IGoldTask task, int count, ulong seed)
    {
        var rng = new Rng(seed ^ 0x5EED);
        return Enumerable.Range(0, count).Select(_ => task.SamplePrompt(rng)).ToArray();
    }

    /// <summary>Prompts <see cref="Run"/> completes at once unless told otherwise (a logits shaper must hold rows for this many).</summary>
    public const int DefaultBatch = 50;

    /// <summary>
    /// Completes every prompt (greedy when <paramref name="temperature"/> is 0) and scores it. <paramref name="shaper"/>, when
    /// given, rewrites the policy's logits before each token is picked (an ILQL policy's advantage-shifted decoding), so the
    /// policy evaluated is the one that decodes that way; it must hold rows for <paramref name="batch"/> prompts.
    /// </summary>
    public static GoldEvaluationResult Run(IGoldTask task, GptModel policy, ITokenizer tokenizer, IReadOnlyList<string> prompts,
        float temperature = 0, ulong seed = 1, int batch = DefaultBatch, ILogitsShaper? shaper = null)
    {
        var encoded = prompts.Select(tokenizer.Encode).ToArray();
        int maxPrompt = encoded.Max(e => e.Length);
        int maxNew = Math.Min(task.MaxCompletionChars + 1, policy.Config.MaxSeqLen - maxPrompt);
        using var gen = new GptGenerator(policy, Math.Min(batch, prompts.Count), maxPrompt);
        var rng = new Rng(seed);
        var completions = new List<string>(prompts.Count);
        for (int start = 0; start < prompts.Count; start += batch)
        {
            var chunk = encoded[start..Math.Min(prompts.Count, start + batch)];
            foreach (var seq in gen.Generate(chunk, new SamplingOptions(MaxNewTokens: maxNew, Temperature: temperature, EosToken: tokenizer.EndOfText), rng, shaper: shaper))
                completions.Add(tokenizer.Decode(seq.Tokens.Where(t => t != tokenizer.EndOfText).ToArray()));
        }
        var gold = prompts.Zip(completions, task.GoldReward).ToArray();
        return new GoldEvaluationResult(prompts, completions, gold);
    }
}
