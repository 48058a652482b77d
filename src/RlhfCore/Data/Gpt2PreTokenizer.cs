using System.Globalization;
using System.Text;

namespace RlhfCore.Data;

/// <summary>
/// A hand-written scanner equivalent to GPT-2's pre-tokenization regex (run by Python's <c>regex</c> module
/// on code points):
/// <code>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</code>
/// It works on code points, so a surrogate pair (an emoji) is one character of class "other", as in
/// Python. Every character is whitespace, letter, number or other, so the pieces tile the text and
/// each piece ends where the next begins. .NET's Unicode tables agree with Python <c>regex</c>'s on every
/// code point both assign (checked exhaustively; newer Unicode versions add letters .NET does not know yet).
/// A lone surrogate counts as "other" (Python could not UTF-8-encode it at all; here it becomes U+FFFD).
/// </summary>
internal static class Gpt2PreTokenizer
{
    private enum CharClass : byte { Space, Letter, Number, Other }

    // ASCII is the common case: classify it by table instead of by Unicode lookup.
    private static readonly CharClass[] AsciiClass = Enumerable.Range(0, 128).Select(c => Classify(new Rune(c))).ToArray();

    /// <summary>End (exclusive) of the piece that starts at <paramref name="start"/>.</summary>
    public static int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        int n = text.Length;
        char c = text[start];

        // 's 't 're 've 'm 'll 'd — only at the start of a piece, case-sensitive, as in GPT-2.
        if (c == '\'' && start + 1 < n)
        {
            char c1 = text[start + 1];
            if (c1 is 's' or 't' or 'm' or 'd') return start + 2;
            if (start + 2 < n)
            {
                char c2 = text[start + 2];
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return start + 3;
            }
        }

        // " ?X+" for letters, numbers and other: one leading space joins a following non-space run.
        if (c == ' ' && start + 1 < n)
        {
            var next = ClassAt(text, start + 1, out int width);
            if (next != CharClass.Space) return RunEnd(text, start + 1 + width, next);
        }

        var cls = ClassAt(text, start, out int w);
        if (cls != CharClass.Space) return RunEnd(text, start + w, cls);

        // Whitespace (always one UTF-16 unit). "\s+(?!\S)": a run at the end of text is taken whole; a run
        // followed by a non-space gives back its last character, which then starts the next piece (joining
        // the word if it is a space). A single whitespace char before a non-space falls to "\s+".
        int end = RunEnd(text, start + 1, CharClass.Space);
        if (end == n) return end;
        return end - start >= 2 ? end - 1 : end;
    }

    private static int RunEnd(ReadOnlySpan<char> text, int pos, CharClass cls)
    {
        while (pos < text.Length && ClassAt(text, pos, out int width) == cls) pos += width;
        return pos;
    }

    private static CharClass ClassAt(ReadOnlySpan<char> text, int pos, out int width)
    {
        char c = text[pos];
        width = 1;
        if (c < 128) return AsciiClass[c];
        if (char.IsHighSurrogate(c) && pos + 1 < text.Length && char.IsLowSurrogate(text[pos + 1]))
        {
            width = 2;
            return Classify(new Rune(c, text[pos + 1]));
        }
        return char.IsSurrogate(c) ? CharClass.Other : Classify(new Rune(c));
    }

    private static CharClass Classify(Rune r)
    {
        // Rune.IsWhiteSpace is Unicode White_Space, the same set as Python regex's \s.
        if (Rune.IsWhiteSpace(r)) return CharClass.Space;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            _ => CharClass.Other,
        };
    }
}
