using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

/// <summary>Loads GPT-2's tokenizer from the shared test data once for all tests.</summary>
internal static class Gpt2Fixture
{
    private static readonly Lazy<Gpt2BpeTokenizer> Shared = new(() =>
        Gpt2BpeTokenizer.Load(TestData.Require("gpt2-tokenizer/vocab.json"), TestData.Require("gpt2-tokenizer/merges.txt")));

    /// <summary>The tokenizer; ignores the calling test when the data is absent.</summary>
    public static Gpt2BpeTokenizer Tokenizer
    {
        get
        {
            TestData.Require("gpt2-tokenizer/vocab.json");
            TestData.Require("gpt2-tokenizer/merges.txt");
            return Shared.Value;
        }
    }

    /// <summary>The 64-bit polynomial hash (x·1000003 + id, wrapping) that gpt2_reference-based expectations use.</summary>
    public static long Hash(IEnumerable<int> ids)
    {
        long h = 0;
        foreach (int id in ids) h = unchecked(h * 1000003 + id);
        return h;
    }
}
