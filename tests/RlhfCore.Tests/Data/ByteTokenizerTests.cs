using System.Text;
using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

public class ByteTokenizerTests
{
    private static readonly ByteTokenizer Tok = ByteTokenizer.Instance;

    [Test]
    public void Shape_MatchesBytePresets()
    {
        Assert.That(Tok.VocabSize, Is.EqualTo(260));
        Assert.That(Tok.EndOfText, Is.EqualTo(256));
        Assert.That(Tok.IsValidId(259) && !Tok.IsValidId(260) && !Tok.IsValidId(-1));
    }

    [Test]
    public void Encode_GivesUtf8Bytes()
    {
        Assert.That(Tok.Encode("hé🤗"), Is.EqualTo(new[] { 0x68, 0xC3, 0xA9, 0xF0, 0x9F, 0xA4, 0x97 }));
    }

    [Test]
    public void Encode_RecognizesEverySpecialToken()
    {
        Assert.That(Tok.Encode("<|user|>hi<|assistant|>yo<|endoftext|><|pad|>"),
            Is.EqualTo(new[] { 258, 'h', 'i', 259, 'y', 'o', 256, 257 }));
        Assert.That(Tok.Decode([258, 'h', 'i', 256]), Is.EqualTo("<|user|>hi<|endoftext|>"));
    }

    [Test]
    public void Encode_LeavesIncompleteSpecialsAsBytes()
    {
        Assert.That(Tok.Encode("<|user>"), Is.EqualTo(Encoding.UTF8.GetBytes("<|user>").Select(b => (int)b)));
    }

    [Test]
    public void DecodeOfEncode_RoundTripsRandomUnicode()
    {
        var rng = new Random(99);
        for (int trial = 0; trial < 300; trial++)
        {
            string text = RandomText.Next(rng, rng.Next(0, 30));
            Assert.That(Tok.Decode(Tok.Encode(text)), Is.EqualTo(text), $"trial {trial}");
        }
    }

    [Test]
    public void Decode_InvalidUtf8_GivesReplacementCharsWithoutThrowing()
    {
        // A lone continuation byte, a truncated 3-byte sequence cut by a special, and an overlong encoding.
        Assert.That(Tok.Decode([0x80, 'a', 0xE6, 0x97, 256, 0xC0, 0xAF]), Is.EqualTo("\uFFFDa\uFFFD<|endoftext|>\uFFFD\uFFFD"));
    }

    [Test]
    public void Decode_MultiByteCharacter_SurvivesAcrossIds()
    {
        Assert.That(Tok.Decode([0xE6, 0x97, 0xA5]), Is.EqualTo("日"));
    }

    [Test]
    public void Decode_OutOfRangeId_NamesTheId()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([1, 260]))!.Message, Does.Contain("260"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Tok.Decode([-5]))!.Message, Does.Contain("-5"));
    }
}
