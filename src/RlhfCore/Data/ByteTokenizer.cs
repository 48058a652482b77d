using System.Text;

namespace RlhfCore.Data;

/// <summary>
/// Byte-level tokenizer for small models trained from scratch: ids 0–255 are the bytes of the UTF-8
/// encoding, followed by four special tokens (vocabulary 260, matching the <c>byte-*</c> model presets).
/// </summary>
public sealed class ByteTokenizer : ITokenizer
{
    /// <summary>Id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int EndOfTextId = 256;
    /// <summary>Id of <c>&lt;|pad|&gt;</c>.</summary>
    public const int PadId = 257;
    /// <summary>Id of <c>&lt;|user|&gt;</c>.</summary>
    public const int UserId = 258;
    /// <summary>Id of <c>&lt;|assistant|&gt;</c>.</summary>
    public const int AssistantId = 259;

    private static readonly SpecialTokens Specials = new([
        ("<|endoftext|>", EndOfTextId), ("<|pad|>", PadId), ("<|user|>", UserId), ("<|assistant|>", AssistantId)]);

    /// <summary>The shared instance (the tokenizer has no state).</summary>
    public static ByteTokenizer Instance { get; } = new();

    /// <inheritdoc/>
    public string Name => "byte";

    /// <inheritdoc/>
    public int VocabSize => 260;

    /// <inheritdoc/>
    public int EndOfText => EndOfTextId;

    /// <inheritdoc/>
    public bool IsValidId(int id) => (uint)id < (uint)VocabSize;

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length);
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <inheritdoc/>
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        while (!text.IsEmpty)
        {
            int at = Specials.IndexOfNext(text, out int id, out int length);
            var plain = at < 0 ? text : text[..at];
            AppendBytes(plain, output);
            if (at < 0) return;
            output.Add(id);
            text = text[(at + length)..];
        }
    }

    private static void AppendBytes(ReadOnlySpan<char> text, List<int> output)
    {
        if (text.IsEmpty) return;
        // Lone surrogates become EF BF BD (U+FFFD), as Encoding.UTF8 does everywhere else.
        int n = Encoding.UTF8.GetByteCount(text);
        byte[]? rented = null;
        Span<byte> bytes = n <= 1024 ? stackalloc byte[n] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(n));
        Encoding.UTF8.GetBytes(text, bytes);
        output.EnsureCapacity(output.Count + n);
        foreach (byte b in bytes[..n]) output.Add(b);
        if (rented != null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
    }

    /// <inheritdoc/>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder(ids.Length);
        var bytes = new List<byte>(ids.Length);
        foreach (int id in ids)
        {
            if (id < 256) { if (id < 0) throw OutOfRange(id); bytes.Add((byte)id); continue; }
            // Bytes before a special are decoded together so multi-byte characters survive.
            FlushBytes(bytes, sb);
            sb.Append(Specials.TextOf(id) ?? throw OutOfRange(id));
        }
        FlushBytes(bytes, sb);
        return sb.ToString();
    }

    private static void FlushBytes(List<byte> bytes, StringBuilder sb)
    {
        if (bytes.Count == 0) return;
        sb.Append(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes)));
        bytes.Clear();
    }

    private ArgumentOutOfRangeException OutOfRange(int id) =>
        new("ids", id, $"token id {id} is outside the {Name} vocabulary [0, {VocabSize})");
}
