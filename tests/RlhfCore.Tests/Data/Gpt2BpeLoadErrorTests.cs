using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

/// <summary>Bad tokenizer files give errors naming the file (and the line, for merges).</summary>
public class Gpt2BpeLoadErrorTests
{
    private TempFiles _files = null!;
    private string _vocab = null!, _merges = null!;

    [SetUp]
    public void SetUp()
    {
        _files = new TempFiles();
        _vocab = TestData.Require("gpt2-tokenizer/vocab.json");
        _merges = TestData.Require("gpt2-tokenizer/merges.txt");
    }

    [TearDown]
    public void TearDown() => _files.Dispose();

    private static DataFormatException Fails(string vocab, string merges) =>
        Assert.Throws<DataFormatException>(() => Gpt2BpeTokenizer.Load(vocab, merges))!;

    [Test]
    public void MissingVocab_NamesFile()
    {
        string missing = _files.Missing("vocab.json");
        var e = Fails(missing, _merges);
        Assert.That(e.Message, Does.StartWith(missing + ":"));
    }

    [Test]
    public void MissingMerges_NamesFile()
    {
        string missing = _files.Missing("merges.txt");
        Assert.That(Fails(_vocab, missing).Message, Does.StartWith(missing + ":"));
    }

    [Test]
    public void CorruptVocabJson_NamesFileAndSaysInvalidJson()
    {
        string bad = _files.Write("vocab.json", "{\"a\": 0, ");
        var e = Fails(bad, _merges);
        Assert.That(e.Message, Does.StartWith(bad + ": invalid JSON"));
    }

    [Test]
    public void VocabWithNonIntegerId_NamesToken()
    {
        string bad = _files.Write("vocab.json", "{\"a\": \"zero\"}");
        Assert.That(Fails(bad, _merges).Message, Is.EqualTo(bad + ": field \"a\" is not a non-negative integer id"));
    }

    [Test]
    public void VocabWithoutByteTokens_IsRejected()
    {
        string bad = _files.Write("vocab.json", "{\"a\": 0, \"<|endoftext|>\": 1}");
        Assert.That(Fails(bad, _merges).Message, Does.StartWith(bad + ": has no token for byte 0x00"));
    }

    [Test]
    public void MergesLineWithOneToken_NamesLine()
    {
        var lines = File.ReadLines(_merges).Take(5).ToList();
        lines[3] = "Ġt";
        string bad = _files.Write("merges.txt", string.Join("\n", lines) + "\n");
        Assert.That(Fails(_vocab, bad).Message, Does.StartWith(bad + " line 4: expected two tokens separated by one space"));
    }

    [Test]
    public void MergesWithUnknownToken_NamesLineAndToken()
    {
        string bad = _files.Write("merges.txt", "#version: 0.2\nĠ t\nqqqq zzzz\n");
        Assert.That(Fails(_vocab, bad).Message, Is.EqualTo(bad + " line 3: token \"qqqq\" of merge \"qqqq zzzz\" is not in the vocabulary"));
    }
}
