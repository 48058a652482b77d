using System.Runtime.InteropServices;
using System.Text;
using RlhfCore.Data;

namespace RlhfCore.Embedding;

/// <summary>rlhf_tokenizer_*, rlhf_tokenize and rlhf_detokenize.</summary>
internal static unsafe class TokenizerExports
{
    [UnmanagedCallersOnly]
    public static int Create(byte* name, byte* dir, nint* tokenizer)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(tokenizer, "out");
            var t = TokenizerFactory.Create(NativeArgs.Text(name, "name"), NativeArgs.OptionalText(dir));
            result = HandleTable.Add(new EmbeddedTokenizer(t));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_tokenizer_create"); }
    }

    [UnmanagedCallersOnly]
    public static int Destroy(nint tokenizer)
    {
        try
        {
            HandleTable.Remove<EmbeddedTokenizer>(tokenizer, "tokenizer");
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_tokenizer_destroy"); }
    }

    [UnmanagedCallersOnly]
    public static int Info(nint tokenizer, int* vocabSize, int* endOfText)
    {
        try
        {
            var t = HandleTable.Get<EmbeddedTokenizer>(tokenizer, "tokenizer").Tokenizer;
            if (vocabSize != null) *vocabSize = t.VocabSize;
            if (endOfText != null) *endOfText = t.EndOfText;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_tokenizer_info"); }
    }

    [UnmanagedCallersOnly]
    public static int Tokenize(nint tokenizer, byte* text, int* ids, int capacity, int* count)
    {
        try
        {
            var t = HandleTable.Get<EmbeddedTokenizer>(tokenizer, "tokenizer").Tokenizer;
            ref int needed = ref NativeArgs.Ref(count, "count");
            if (capacity < 0) throw new ArgumentException($"capacity must be ≥ 0, got {capacity}");
            int[] encoded = t.Encode(NativeArgs.Text(text, "text"));
            needed = encoded.Length;
            if (encoded.Length > capacity)
                throw new BufferTooSmallException($"the text has {encoded.Length} tokens; ids holds {capacity} (count now says how many are needed)");
            if (encoded.Length > 0) encoded.CopyTo(NativeArgs.Out(ids, encoded.Length, "ids"));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_tokenize"); }
    }

    [UnmanagedCallersOnly]
    public static int Detokenize(nint tokenizer, int* ids, int count, byte* text, int capacity, int* length)
    {
        try
        {
            var t = HandleTable.Get<EmbeddedTokenizer>(tokenizer, "tokenizer").Tokenizer;
            ref int needed = ref NativeArgs.Ref(length, "length");
            if (count < 0) throw new ArgumentException($"count must be ≥ 0, got {count}");
            var input = count == 0 ? default : NativeArgs.In(ids, count, "ids");
            for (int i = 0; i < count; i++)
                if (!t.IsValidId(input[i])) throw new ArgumentException($"ids[{i}] = {input[i]} is outside the vocabulary [0, {t.VocabSize})");
            byte[] utf8 = Encoding.UTF8.GetBytes(t.Decode(input));
            needed = utf8.Length;
            if (utf8.Length + 1 > capacity)
                throw new BufferTooSmallException($"the text is {utf8.Length} bytes plus its NUL; text holds {capacity} (length now says how many are needed without the NUL)");
            var output = NativeArgs.Out(text, utf8.Length + 1, "text");
            utf8.CopyTo(output);
            output[utf8.Length] = 0;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_detokenize"); }
    }
}
