using System.Buffers;

namespace RlhfCore.Data;

/// <summary>
/// Finds special-token strings (such as <c>&lt;|endoftext|&gt;</c>) in text so tokenizers can split them
/// out before ordinary encoding. One vectorized scan looks for all of them at once.
/// </summary>
internal sealed class SpecialTokens
{
    private readonly (string Text, int Id)[] _byLengthDescending;
    private readonly SearchValues<string> _search;

    /// <summary>Creates a matcher for the given (text, id) pairs.</summary>
    public SpecialTokens(IEnumerable<(string Text, int Id)> tokens)
    {
        // Longest first, so that when one special is a prefix of another the longer one wins.
        _byLengthDescending = tokens.OrderByDescending(t => t.Text.Length).ToArray();
        _search = SearchValues.Create(_byLengthDescending.Select(t => t.Text).ToArray(), StringComparison.Ordinal);
    }

    /// <summary>
    /// Index of the first special token in <paramref name="text"/>, or -1; on success gives its id and
    /// length in chars.
    /// </summary>
    public int IndexOfNext(ReadOnlySpan<char> text, out int id, out int length)
    {
        id = -1; length = 0;
        int at = text.IndexOfAny(_search);
        if (at < 0) return -1;
        var rest = text[at..];
        foreach (var (special, specialId) in _byLengthDescending)
        {
            if (!rest.StartsWith(special, StringComparison.Ordinal)) continue;
            id = specialId; length = special.Length;
            return at;
        }
        throw new InvalidOperationException("SearchValues matched a string that is not a special token"); // unreachable
    }

    /// <summary>The text of special id <paramref name="id"/>, or null when it is not special.</summary>
    public string? TextOf(int id)
    {
        foreach (var (special, specialId) in _byLengthDescending)
            if (specialId == id) return special;
        return null;
    }
}
