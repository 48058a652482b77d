using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace RlhfCore.Data;

/// <summary>
/// GPT-2's byte-level BPE, exact to GPT-2's ids: <c>&lt;|endoftext|&gt;</c> is split out of the text first,
/// the rest is cut into pieces by GPT-2's pre-tokenization rule (<see cref="Gpt2PreTokenizer"/>), each
/// piece's UTF-8 bytes start as one token each and are merged by rank exactly as OpenAI's
/// <c>encoder.py</c> does. Pieces are cached, so common words cost one lookup.
/// </summary>
public sealed class Gpt2BpeTokenizer : ITokenizer
{
    private const string EndOfTextText = "<|endoftext|>";
    // Long pieces (whitespace runs, long numbers) are rare and would bloat the cache.
    private const int MaxCachedPieceChars = 64;
    // Bounds memory on huge corpora; when full the cache is simply cleared and refilled.
    private const int MaxCacheEntries = 500_000;

    private readonly byte[][] _idToBytes;
    private readonly int[] _byteToId;
    private readonly Dictionary<long, int> _pairRank;
    private readonly int[] _mergedIdByRank;
    private readonly SpecialTokens _specials;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private int _cacheCount;

    private Gpt2BpeTokenizer(string[] tokens, List<(int Left, int Right, int Merged)> merges, int endOfText, int[] byteToId)
    {
        VocabSize = tokens.Length;
        EndOfText = endOfText;
        _byteToId = byteToId;
        _idToBytes = tokens.Select(TokenBytes).ToArray();
        _pairRank = new Dictionary<long, int>(merges.Count);
        _mergedIdByRank = new int[merges.Count];
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right, merged) = merges[rank];
            // A repeated pair takes its last rank, as encoder.py's dict(zip(merges, ranks)) does; GPT-2 has none.
            _pairRank[PairKey(left, right)] = rank;
            _mergedIdByRank[rank] = merged;
        }
        _specials = new SpecialTokens([(EndOfTextText, endOfText)]);
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Loads Hugging Face's GPT-2 <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    /// <exception cref="DataFormatException">A file is missing or malformed; the message names it (and the line for merges).</exception>
    public static Gpt2BpeTokenizer Load(string vocabJsonPath, string mergesTxtPath)
    {
        string[] tokens = Gpt2BpeFiles.ReadVocab(vocabJsonPath);
        var vocab = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++) vocab[tokens[id]] = id;

        var byteToId = new int[256];
        for (int b = 0; b < 256; b++)
            byteToId[b] = vocab.TryGetValue(Gpt2ByteMap.ByteToChar[b].ToString(), out int id) ? id
                : throw new DataFormatException(vocabJsonPath, null, null, $"has no token for byte 0x{b:X2} (\"{Gpt2ByteMap.ByteToChar[b]}\"); not a GPT-2 byte-level vocabulary");
        if (!vocab.TryGetValue(EndOfTextText, out int endOfText))
            throw new DataFormatException(vocabJsonPath, null, EndOfTextText, "is missing");
        foreach (string token in tokens)
            if (token.Any(c => c >= Gpt2ByteMap.CharToByte.Length || Gpt2ByteMap.CharToByte[c] < 0))
                throw new DataFormatException(vocabJsonPath, null, token, "holds a character outside GPT-2's byte-to-unicode table");

        var merges = Gpt2BpeFiles.ReadMerges(mergesTxtPath, vocab);
        return new Gpt2BpeTokenizer(tokens, merges, endOfText, byteToId);
    }

    /// <inheritdoc/>
    public string Name => "gpt2";

    /// <inheritdoc/>
    public int VocabSize { get; }

    /// <inheritdoc/>
    public int EndOfText { get; }

    /// <inheritdoc/>
    public bool IsValidId(int id) => (uint)id < (uint)VocabSize;

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        while (!text.IsEmpty)
        {
            int at = _specials.IndexOfNext(text, out int id, out int length);
            EncodeOrdinary(at < 0 ? text : text[..at], output);
            if (at < 0) return;
            output.Add(id);
            text = text[(at + length)..];
        }
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> output)
    {
        for (int start = 0; start < text.Length;)
        {
            int end = Gpt2PreTokenizer.PieceEnd(text, start);
            EncodePiece(text[start..end], output);
            start = end;
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> output)
    {
        if (piece.Length == 1 && piece[0] < 128) { output.Add(_byteToId[piece[0]]); return; }
        if (_cacheBySpan.TryGetValue(piece, out int[]? cached)) { output.AddRange(cached); return; }

        int byteCount = Encoding.UTF8.GetByteCount(piece);
        byte[]? rentedBytes = null;
        int[]? rentedIds = null;
        Span<byte> bytes = byteCount <= 256 ? stackalloc byte[byteCount] : (rentedBytes = ArrayPool<byte>.Shared.Rent(byteCount));
        Span<int> ids = byteCount <= 256 ? stackalloc int[byteCount] : (rentedIds = ArrayPool<int>.Shared.Rent(byteCount));
        Encoding.UTF8.GetBytes(piece, bytes);
        for (int i = 0; i < byteCount; i++) ids[i] = _byteToId[bytes[i]];
        var merged = ids[..Merge(ids[..byteCount])];
        output.AddRange(merged);

        if (piece.Length <= MaxCachedPieceChars)
        {
            // ConcurrentDictionary.Count takes every lock, so the size is tracked here instead (approximately under races).
            if (_cacheCount >= MaxCacheEntries) { _cache.Clear(); _cacheCount = 0; }
            if (_cacheBySpan.TryAdd(piece, merged.ToArray())) Interlocked.Increment(ref _cacheCount);
        }
        if (rentedBytes != null) ArrayPool<byte>.Shared.Return(rentedBytes);
        if (rentedIds != null) ArrayPool<int>.Shared.Return(rentedIds);
    }

    /// <summary>
    /// encoder.py's loop, on ids: find the adjacent pair with the lowest merge rank, merge every
    /// occurrence of it left to right, repeat until no pair has a rank. Returns the new length.
    /// </summary>
    private int Merge(Span<int> word)
    {
        int length = word.Length;
        while (length > 1)
        {
            int bestRank = int.MaxValue, bestAt = -1;
            for (int i = 0; i < length - 1; i++)
                if (_pairRank.TryGetValue(PairKey(word[i], word[i + 1]), out int rank) && rank < bestRank) { bestRank = rank; bestAt = i; }
            if (bestAt < 0) break;

            int left = word[bestAt], right = word[bestAt + 1], mergedId = _mergedIdByRank[bestRank], write = 0;
            for (int read = 0; read < length;)
            {
                if (read < length - 1 && word[read] == left && word[read + 1] == right) { word[write++] = mergedId; read += 2; }
                else word[write++] = word[read++];
            }
            length = write;
        }
        return length;
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids)
    {
        int total = 0;
        foreach (int id in ids)
        {
            if (!IsValidId(id)) throw new ArgumentOutOfRangeException(nameof(ids), id, $"token id {id} is outside the {Name} vocabulary [0, {VocabSize})");
            total += _idToBytes[id].Length;
        }
        byte[] buffer = ArrayPool<byte>.Shared.Rent(total);
        int at = 0;
        foreach (int id in ids)
        {
            _idToBytes[id].CopyTo(buffer, at);
            at += _idToBytes[id].Length;
        }
        // Encoding.UTF8 replaces invalid sequences with U+FFFD, like encoder.py's errors="replace".
        string text = Encoding.UTF8.GetString(buffer, 0, total);
        ArrayPool<byte>.Shared.Return(buffer);
        return text;
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    // Load has checked that every character is in the table ("<|endoftext|>" is printable ASCII, so it maps to itself).
    private static byte[] TokenBytes(string token) => token.Select(c => (byte)Gpt2ByteMap.CharToByte[c]).ToArray();
}
