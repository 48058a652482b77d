using RlhfCore.Data;
using RlhfCore.IO;

namespace RlhfCore.Feedback;

/// <summary>
/// Writes TRL preference pairs as JSONL, one <c>{"prompt","chosen","rejected"}</c> per line (and
/// <c>"margin"</c> when it is not 0), which <see cref="FeedbackReader"/> reads back as the same pairs.
/// </summary>
public static class PairFile
{
    /// <summary>Writes <paramref name="pairs"/> to <paramref name="path"/> atomically (never seen half-written).</summary>
    public static void Write(string path, IEnumerable<PreferencePair> pairs) =>
        AtomicFile.Write(path, s =>
        {
            foreach (var p in pairs) s.Write(Line(p));
        });

    /// <summary>One pair as a JSONL line (UTF-8, newline-terminated).</summary>
    public static byte[] Line(PreferencePair p) => JsonLine.Build(w =>
    {
        w.WriteString("prompt", p.Prompt);
        w.WriteString("chosen", p.Chosen);
        w.WriteString("rejected", p.Rejected);
        if (p.Margin != 0) w.WriteNumber("margin", p.Margin);
    });
}
