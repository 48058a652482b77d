using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

public class JsonlReaderTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void Read_SkipsBlankLines_AndKeepsFileLineNumbers()
    {
        string path = _files.Write("a.jsonl", "{\"a\":1}\n\n   \n{\"a\":2}\r\n");
        var records = JsonlReader.Read(path).ToList();
        Assert.That(records.Select(r => r.Line), Is.EqualTo(new[] { 1, 4 }));
        Assert.That(records.Select(r => r.Root.GetProperty("a").GetInt32()), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(records[0].FilePath, Is.EqualTo(path));
    }

    [Test]
    public void Read_GzFile_IsDecompressed()
    {
        string path = _files.Write("a.jsonl.gz", "{\"a\":\"x\"}\n{\"a\":\"y\"}\n");
        Assert.That(JsonlReader.Read(path).Select(r => r.GetString("a")), Is.EqualTo(new[] { "x", "y" }));
    }

    [Test]
    public void Read_RealHhRlhfGz_ReadsEveryLine()
    {
        Assert.That(JsonlReader.Read(TestData.Require("hh-rlhf/harmless-base-test.jsonl.gz")).Count(), Is.EqualTo(2312));
    }

    [Test]
    public void BadJson_NamesFileAndLine()
    {
        string path = _files.Write("bad.jsonl", "{\"a\":1}\n{\"a\": \n");
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        Assert.That(e.Message, Does.StartWith(path + " line 2: invalid JSON: "));
        Assert.That((e.FilePath, e.Line), Is.EqualTo((path, (int?)2)));
    }

    [Test]
    public void NonObjectLine_NamesFileAndLine()
    {
        string path = _files.Write("arr.jsonl", "[1,2]\n");
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path).ToList())!;
        Assert.That(e.Message, Is.EqualTo(path + " line 1: expected a JSON object, got Array"));
    }

    [Test]
    public void MissingFile_FailsAtTheCall_NamingTheFile()
    {
        string path = _files.Missing("nope.jsonl");
        var e = Assert.Throws<DataFormatException>(() => JsonlReader.Read(path))!;
        Assert.That(e.Message, Does.StartWith(path + ": cannot open"));
    }

    [Test]
    public void GetString_MissingOrWrongType_NamesField()
    {
        string path = _files.Write("f.jsonl", "{\"n\": 3}\n");
        var record = JsonlReader.Read(path).Single();
        Assert.That(Assert.Throws<DataFormatException>(() => record.GetString("s"))!.Message,
            Is.EqualTo(path + " line 1: field \"s\" is missing"));
        Assert.That(Assert.Throws<DataFormatException>(() => record.GetString("n"))!.Message,
            Is.EqualTo(path + " line 1: field \"n\" is not a string (got Number)"));
    }
}
