using RlhfCore.Data;
using RlhfCore.Feedback.Annotation;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Annotation;

public class ComparisonFileTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void Reads_BothItemFormats()
    {
        string path = _files.Write("items.jsonl",
            "{\"prompt\":\"1+1=\",\"a\":\"2\",\"b\":\"3\"}\n\n{\"prompt\":\"p\",\"completions\":[\"x\",\"\"]}\n");
        Assert.That(ComparisonFile.Read(path), Is.EqualTo(new[] { new ComparisonItem("1+1=", "2", "3"), new ComparisonItem("p", "x", "") }));
    }

    [Test]
    public void Write_ThenRead_RoundTrips_WithReadableText()
    {
        var items = new[] { new ComparisonItem("17+25=", "42", "4\"2"), new ComparisonItem("héllo\n", "<b>", "\t") };
        string path = _files.Missing("out.jsonl");
        ComparisonFile.Write(path, items);
        Assert.That(ComparisonFile.Read(path), Is.EqualTo(items));
        Assert.That(File.ReadAllLines(path)[0], Is.EqualTo("{\"prompt\":\"17+25=\",\"a\":\"42\",\"b\":\"4\\\"2\"}"));
    }

    [TestCase("{\"a\":\"x\",\"b\":\"y\"}", "line 2: field \"prompt\" is missing")]
    [TestCase("{\"prompt\":1,\"a\":\"x\",\"b\":\"y\"}", "line 2: field \"prompt\" is not a string")]
    [TestCase("{\"prompt\":\"p\"}", "line 2: needs \"a\" and \"b\", or \"completions\": [a, b]")]
    [TestCase("{\"prompt\":\"p\",\"a\":\"x\"}", "line 2: field \"b\" is missing")]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"x\",\"y\",\"z\"]}", "line 2: field \"completions\" has 3 entries; a comparison needs exactly 2")]
    [TestCase("{\"prompt\":\"p\",\"completions\":\"xy\"}", "line 2: field \"completions\" is not an array")]
    [TestCase("{\"prompt\":\"p\",\"completions\":[\"x\",null]}", "line 2: field \"completions[1]\" is not a string (got Null)")]
    [TestCase("{\"prompt\":\"p\",", "line 2: invalid JSON")]
    public void BadLine_NamesFileLineAndField(string badLine, string expected)
    {
        string path = _files.Write("items.jsonl", "{\"prompt\":\"p\",\"a\":\"x\",\"b\":\"y\"}\n" + badLine + "\n");
        var e = Assert.Throws<DataFormatException>(() => ComparisonFile.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + " " + expected));
    }

    [Test]
    public void EmptyFile_IsAnError()
    {
        string path = _files.Write("empty.jsonl", "\n");
        Assert.That(() => ComparisonFile.Read(path), Throws.TypeOf<DataFormatException>().With.Message.EqualTo(path + ": holds no comparison items"));
    }
}
