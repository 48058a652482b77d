using System.IO.Compression;
using System.Text;
using System.Text.Json;
using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

/// <summary>
/// GPT-2 BPE exactness. How the expected ids were derived:
/// <list type="bullet">
/// <item>Well-known GPT-2 ids: "Hello" 15496, " world" 995, "'s" 338, "\n" 198, "\n\n" 628, " " 220, "&lt;|endoftext|&gt;" 50256
/// (each is one entry of vocab.json, e.g. "Ġworld": 995 — Ġ is the space in the byte-to-unicode table).</item>
/// <item>By hand for the pre-tokenization cases: "a  b" is cut into "a", " ", " b" because <c>\s+(?!\S)</c> leaves the last
/// space to join the word, giving 64 ("a"), 220 ("Ġ"), 275 ("Ġb"); "a   b" gives "a", "  ", " b" and GPT-2 has no "Ġ Ġ"
/// merge, so 64, 220, 220, 275.</item>
/// <item>All rows, and the whole-corpus hashes, were cross-checked with <c>gpt2_reference.py</c> in this folder (a
/// transcription of OpenAI's encoder.py on Python's <c>regex</c>); its tinyshakespeare count, 338,025 tokens, equals
/// nanoGPT's published 301,966 + 36,059.</item>
/// </list>
/// </summary>
public class Gpt2BpeTokenizerTests
{
    private static Gpt2BpeTokenizer Tok => Gpt2Fixture.Tokenizer;

    /// <summary>
    /// Ignores the whole class up front when the shared data is absent: inside an <c>Assert.Throws</c> lambda
    /// the fixture's ignore would be caught as the wrong exception and fail the test instead.
    /// </summary>
    [OneTimeSetUp]
    public void RequireTokenizer() => _ = Tok;

    private static IEnumerable<TestCaseData> Cases()
    {
        TestCaseData Case(string text, params int[] ids) => new TestCaseData(text, ids).SetArgDisplayNames(JsonSerializer.Serialize(text));
        yield return Case("Hello world", 15496, 995);
        yield return Case("Hello", 15496);
        yield return Case(" world", 995);
        yield return Case("I'm", 40, 1101);
        yield return Case("don't", 9099, 470);
        yield return Case("they'll", 9930, 1183);
        yield return Case("we've", 732, 1053);
        yield return Case("'s", 338);
        yield return Case("She's here", 3347, 338, 994);
        yield return Case("x's?'s", 87, 338, 8348, 82);         // "?'" is one "other" run; the contraction only starts a piece
        yield return Case("It'S", 1026, 6, 50);                  // contractions are case-sensitive
        yield return Case("12345", 10163, 2231);
        yield return Case("3.14", 18, 13, 1415);
        yield return Case("1,000,000", 16, 11, 830, 11, 830);
        yield return Case("café", 66, 1878, 2634);
        yield return Case("日本語", 33768, 98, 17312, 105, 45739, 252);
        yield return Case("Привет мир", 140, 253, 21169, 18849, 38857, 16843, 20375, 12466, 120, 18849, 21169);
        yield return Case("👍🏽", 41840, 235, 8582, 237, 121);    // two surrogate pairs, one "other" piece
        yield return Case("🤗", 8582, 97, 245);
        // Supplementary-plane letters and digits (surrogate pairs) are letters/numbers, not "other".
        yield return Case("x 𝐀b 𠀀𠀁 𝟙𝟚!", 87, 220, 47728, 238, 222, 65, 220, 172, 254, 222, 222, 172, 254, 222, 223, 220, 47728, 253, 247, 47728, 253, 248, 0);
        yield return Case("𝐀's", 47728, 238, 222, 338);       // a letter, so the contraction starts a new piece
        yield return Case("x𠀀'll", 87, 172, 254, 222, 222, 1183);
        yield return Case("a\u00A0b", 64, 1849, 65);          // NO-BREAK SPACE is \s but not ' ': it never joins a word
        yield return Case("a \u00A0 b\u3000", 64, 5624, 275, 5099, 222);
        yield return Case("a  b", 64, 220, 275);
        yield return Case("a   b", 64, 220, 220, 275);
        yield return Case("\n\n\n", 628, 198);                   // a run at the end is one piece
        yield return Case("hello\n\nworld", 31373, 198, 198, 6894); // "\n" then "\n" alone: it cannot join "world"
        yield return Case("trailing  ", 9535, 4386, 220, 220);
        yield return Case("\ttab\tx", 197, 8658, 197, 87);
        yield return Case(" ", 220);
        yield return Case("", []);
        yield return Case("Hello<|endoftext|>world", 15496, 50256, 6894);
        yield return Case("a <|endoftext|> b", 64, 220, 50256, 275);
    }

    [TestCaseSource(nameof(Cases))]
    public void Encode_GivesGpt2Ids(string text, int[] expected)
    {
        Assert.That(Tok.Encode(text), Is.EqualTo(expected));
        Assert.That(Tok.Decode(expected), Is.EqualTo(text));
    }

    [Test]
    public void Vocabulary_HasGpt2Shape()
    {
        Assert.That(Tok.VocabSize, Is.EqualTo(50257));
        Assert.That(Tok.EndOfText, Is.EqualTo(50256));
        Assert.That(Tok.IsValidId(50256) && !Tok.IsValidId(50257) && !Tok.IsValidId(-1));
    }

    [Test]
    public void Encode_AppendingOverload_AppendsWithoutClearing()
    {
        var ids = new List<int> { 7 };
        Tok.Encode("Hello world".AsSpan(), ids);
        Assert.That(ids, Is.EqualTo(new[] { 7, 15496, 995 }));
    }

    [Test]
    public void TinyShakespeare_MatchesReferenceTokenization()
    {
        string text = File.ReadAllText(TestData.Require("tinyshakespeare/input.txt"));
        int[] ids = Tok.Encode(text);
        Assert.That(ids.Length, Is.EqualTo(338025));
        Assert.That(ids[..8], Is.EqualTo(new[] { 5962, 22307, 25, 198, 8421, 356, 5120, 597 }));
        Assert.That(Gpt2Fixture.Hash(ids), Is.EqualTo(-8416890225808758949L));
        Assert.That(Tok.Decode(ids), Is.EqualTo(text));
    }

    [Test]
    public void HhRlhfTranscripts_MatchReferenceTokenization()
    {
        // Real chat text: curly quotes, emoji, odd whitespace. Expected values from gpt2_reference.py.
        using var gz = new GZipStream(File.OpenRead(TestData.Require("hh-rlhf/harmless-base-test.jsonl.gz")), CompressionMode.Decompress);
        using var reader = new StreamReader(gz, Encoding.UTF8);
        var ids = new List<int>();
        for (string? line; (line = reader.ReadLine()) != null;)
            Tok.Encode(JsonDocument.Parse(line).RootElement.GetProperty("chosen").GetString(), ids);
        Assert.That(ids.Count, Is.EqualTo(381458));
        Assert.That(Gpt2Fixture.Hash(ids), Is.EqualTo(-2762247553891953839L));
    }

    [Test]
    public void DecodeOfEncode_RoundTripsRandomUnicode()
    {
        var rng = new Random(1234);
        for (int trial = 0; trial < 300; trial++)
        {
            string text = RandomText.Next(rng, rng.Next(0, 40));
            Assert.That(Tok.Decode(Tok.Encode(text)), Is.EqualTo(text), $"trial {trial}: {JsonSerializer.Serialize(text)}");
        }
    }

    [Test]
    public void Decode_OutOfRangeId_NamesTheId()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([15496, 50257]))!;
        Assert.That(e.Message, Does.Contain("50257"));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([-3]));
    }

    [Test]
    public void Decode_PartialUtf8_GivesReplacementCharacter()
    {
        // 8582 is "ðŁ" = bytes F0 9F, the first half of a 4-byte emoji.
        Assert.That(Tok.Decode([8582]), Does.Contain("\uFFFD"));
    }
}
