using RlhfCore.Data;
using RlhfCore.Feedback;

namespace RlhfCore.Rl.Ilql;

/// <summary>One offline ILQL example: a completion of a prompt and its reward.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Completion">The completion the behaviour policy produced.</param>
/// <param name="Reward">Its reward (the rating, or 1/0 for an approval), given at its last token.</param>
/// <param name="Where">File and line, for messages.</param>
public sealed record IlqlExample(string Prompt, string Completion, double Reward, string Where);

/// <summary>
/// Reads ILQL's offline data through <see cref="FeedbackReader"/>: ratings JSONL <c>{"prompt","completion","rating"}</c>
/// (reward = rating) or approvals JSONL <c>{"prompt","completion","label"}</c> (reward 1 for true, 0 for false). Data
/// without rewards — pairs, rankings, transcripts, or lines without a rating/label — is one clear error naming the file.
/// </summary>
public static class IlqlData
{
    /// <summary>The examples of <paramref name="path"/>, in file order.</summary>
    public static IReadOnlyList<IlqlExample> Read(string path, bool skipInvalid = false)
    {
        // A completion without a rating or label (SFT data) matches no feedback layout; say what ILQL misses instead.
        foreach (var first in JsonlReader.Read(path).Take(1))
            if (first.Root.ValueKind == System.Text.Json.JsonValueKind.Object && first.Has("completion") && !first.Has("rating") && !first.Has("label"))
                throw first.Error(null, "has no reward for ILQL: each line needs {\"prompt\",\"completion\",\"rating\"} (ratings) or {\"prompt\",\"completion\",\"label\"} (approvals)");
        var set = FeedbackReader.Read(path, kind: null, skipInvalid);
        if (set.Kind is not (FeedbackKind.Ratings or FeedbackKind.Approvals))
            throw new DataFormatException(path, null, null,
                $"holds {set.Kind.ToString().ToLowerInvariant()}, which carry no reward per completion; ILQL learns from ratings {{\"prompt\",\"completion\",\"rating\"}} or approvals {{\"prompt\",\"completion\",\"label\"}}");
        var examples = new List<IlqlExample>(set.Records.Count);
        foreach (var r in set.Records)
            examples.Add(r switch
            {
                RatedCompletion c => new IlqlExample(c.Prompt, c.Completion, c.Rating, c.Where),
                LabeledCompletion l => new IlqlExample(l.Prompt, l.Completion, l.Approved ? 1 : 0, l.Where),
                _ => throw new InvalidOperationException($"{r.Where}: a {r.GetType().Name} in a {set.Kind} file"),
            });
        return examples;
    }
}
