namespace RlhfCore.Data;

/// <summary>
/// Text ↔ token ids. Implementations are immutable after construction and safe to use from several
/// threads at once.
/// </summary>
public interface ITokenizer
{
    /// <summary>Short identifier written into run configs (e.g. <c>byte</c>, <c>gpt2</c>).</summary>
    string Name { get; }

    /// <summary>Number of ids; valid ids are <c>0 .. VocabSize-1</c>.</summary>
    int VocabSize { get; }

    /// <summary>The end-of-text id: appended after each document and used as the document separator.</summary>
    int EndOfText { get; }

    /// <summary>Encodes <paramref name="text"/>; special-token strings in the text become their ids.</summary>
    int[] Encode(string text);

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="output"/> (bulk use: no intermediate arrays).</summary>
    void Encode(ReadOnlySpan<char> text, List<int> output);

    /// <summary>Decodes ids to text; byte sequences that are not valid UTF-8 become U+FFFD.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside <c>0 .. VocabSize-1</c>.</exception>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>True when <paramref name="id"/> is in <c>0 .. VocabSize-1</c>.</summary>
    bool IsValidId(int id);
}
