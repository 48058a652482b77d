using RlhfCore.Data;
using RlhfCore.Tests.Data;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Dpo;

/// <summary>Reading and tokenizing preference pairs: the layout, and one clear error per kind of bad line.</summary>
public class DpoPairsTests
{
    private const string Good = "{\"prompt\":\"1+1=\",\"chosen\":\"2\",\"rejected\":\"3\"}";

    private static DataFormatException LoadError(string secondLine)
    {
        using var files = new TempFiles();
        string path = files.Write("pairs.jsonl", Good + "\n" + secondLine + "\n");
        return Assert.Throws<DataFormatException>(() => DpoData.ReadPairs(path))!;
    }

    [Test]
    public void ReadsPairsAndTokenizesWithEndOfText()
    {
        using var files = new TempFiles();
        string path = files.Write("pairs.jsonl", Good + "\n\n{\"prompt\":\"\",\"chosen\":\"ab\",\"rejected\":\"c\",\"extra\":1}\n");
        var pairs = DpoData.ReadPairs(path);
        Assert.That(pairs, Has.Count.EqualTo(2));
        Assert.That(pairs[1].Line, Is.EqualTo(3));
        var e = DpoExample.FromPair(pairs[0], ByteTokenizer.Instance, 8, 260);
        Assert.That(e.Prompt, Is.EqualTo("1+1="u8.ToArray().Select(b => (int)b)));
        Assert.That(e.Chosen, Is.EqualTo(new[] { '2', ByteTokenizer.EndOfTextId }));
        // An empty prompt becomes the end-of-text token, so the first completion token is scored too.
        Assert.That(DpoExample.FromPair(pairs[1], ByteTokenizer.Instance, 8, 260).Prompt, Is.EqualTo(new[] { ByteTokenizer.EndOfTextId }));
    }

    [Test]
    public void ChosenEqualToRejected() =>
        Assert.That(LoadError("{\"prompt\":\"x\",\"chosen\":\"a\",\"rejected\":\"a\"}").Message,
            Does.Contain("line 2").And.Contain("\"rejected\"").And.Contain("identical"));

    [Test]
    public void EmptyCompletion() =>
        Assert.That(LoadError("{\"prompt\":\"x\",\"chosen\":\"\",\"rejected\":\"a\"}").Message,
            Does.Contain("line 2").And.Contain("\"chosen\"").And.Contain("empty"));

    [Test]
    public void MissingField() =>
        Assert.That(LoadError("{\"prompt\":\"x\",\"chosen\":\"a\"}").Message, Does.Contain("line 2").And.Contain("\"rejected\" is missing"));

    [Test]
    public void MissingPrompt() =>
        Assert.That(LoadError("{\"chosen\":\"a\",\"rejected\":\"b\"}").Message, Does.Contain("line 2").And.Contain("\"prompt\" is missing"));

    [Test]
    public void TooLongForTheRow()
    {
        using var files = new TempFiles();
        string path = files.Write("pairs.jsonl", Good + "\n{\"prompt\":\"12+34=\",\"chosen\":\"46\",\"rejected\":\"4600000\"}\n");
        var pairs = DpoData.ReadPairs(path);
        Assert.DoesNotThrow(() => DpoExample.FromPair(pairs[0], ByteTokenizer.Instance, 8, 260));
        var e = Assert.Throws<DataFormatException>(() => DpoData.Tokenize(pairs, ByteTokenizer.Instance, 8, 260))!;
        Assert.That(e.Message, Does.Contain("line 2").And.Contain("\"rejected\"").And.Contain("14 tokens").And.Contain("--seq-len"));
    }
}
