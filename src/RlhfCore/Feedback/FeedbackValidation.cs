namespace RlhfCore.Feedback;

/// <summary>
/// The content checks every feedback record must pass, whether read from a file or made in memory:
/// completions are not empty (whitespace only counts as empty; unless empty completions are allowed, as
/// in the pipeline, where a policy that answers with EOS alone gives a real, bad answer), a pair's two completions differ, a
/// ranking has at least two completions and no duplicates, numbers are finite. Each problem is one
/// sentence naming the field.
/// </summary>
public static class FeedbackValidation
{
    /// <summary>The first problem with <paramref name="record"/> as (field, problem), or null when it is usable.</summary>
    public static (string Field, string Problem)? Check(FeedbackRecord record, bool allowEmptyCompletions = false)
    {
        bool IsEmpty(string s) => !allowEmptyCompletions && string.IsNullOrWhiteSpace(s);
        switch (record)
        {
            case PreferencePair p:
                if (IsEmpty(p.Chosen)) return ("chosen", "is empty (a completion needs at least one non-blank character)");
                if (IsEmpty(p.Rejected)) return ("rejected", "is empty (a completion needs at least one non-blank character)");
                if (p.Chosen == p.Rejected) return ("rejected", "is identical to \"chosen\"; a preference needs two different completions");
                if (!double.IsFinite(p.Margin)) return ("margin", $"is not a finite number ({p.Margin})");
                return null;
            case RankedCompletions r:
                if (r.Ranked.Count < 2) return ("completions", $"has {r.Ranked.Count} completion(s); a ranking needs at least 2");
                for (int i = 0; i < r.Ranked.Count; i++)
                {
                    if (IsEmpty(r.Ranked[i])) return ("completions", $"entry {i} is empty (a completion needs at least one non-blank character)");
                    for (int j = 0; j < i; j++)
                        if (r.Ranked[i] == r.Ranked[j]) return ("completions", $"entries {j} and {i} are the same completion; a ranking cannot order a completion against itself");
                }
                return null;
            case RatedCompletion c:
                if (IsEmpty(c.Completion)) return ("completion", "is empty (a completion needs at least one non-blank character)");
                if (!double.IsFinite(c.Rating)) return ("rating", $"is not a finite number ({c.Rating})");
                return null;
            case LabeledCompletion l:
                return IsEmpty(l.Completion) ? ("completion", "is empty (a completion needs at least one non-blank character)") : null;
            default:
                throw new ArgumentException($"unknown feedback record type {record.GetType().Name}", nameof(record));
        }
    }

    /// <summary>The kind a record's type belongs to (HH transcripts become <see cref="PreferencePair"/>s, so pairs).</summary>
    public static FeedbackKind KindOf(FeedbackRecord record) => record switch
    {
        PreferencePair => FeedbackKind.Pairs,
        RankedCompletions => FeedbackKind.Rankings,
        RatedCompletion => FeedbackKind.Ratings,
        LabeledCompletion => FeedbackKind.Approvals,
        _ => throw new ArgumentException($"unknown feedback record type {record.GetType().Name}", nameof(record)),
    };
}
