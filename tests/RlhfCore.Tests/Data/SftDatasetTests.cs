using RlhfCore.Data;

namespace RlhfCore.Tests.Data;

public class SftDatasetTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void Load_ReadsBothTrlLayouts()
    {
        string path = _files.Write("sft.jsonl", "{\"text\": \"hello\"}\n\n{\"prompt\": \"Q: \", \"completion\": \"A\", \"extra\": 1}\n");
        var records = SftDataset.Load(path);
        Assert.That(records, Is.EqualTo(new[]
        {
            new SftRecord("", "hello", true, path, 1),
            new SftRecord("Q: ", "A", false, path, 3),
        }));
    }

    private string FailureOf(string line)
    {
        string path = _files.Write("data.jsonl", "{\"text\": \"ok\"}\n" + line + "\n");
        var e = Assert.Throws<DataFormatException>(() => SftDataset.Load(path))!;
        Assert.That(e.Message, Does.StartWith(path + " line 2: "));
        return e.Message[(path.Length + " line 2: ".Length)..];
    }

    [Test]
    public void MissingCompletion_IsNamed() =>
        Assert.That(FailureOf("{\"prompt\": \"p\"}"), Is.EqualTo("field \"completion\" is missing"));

    [Test]
    public void NonStringPrompt_IsNamed() =>
        Assert.That(FailureOf("{\"prompt\": 5, \"completion\": \"c\"}"), Is.EqualTo("field \"prompt\" is not a string (got Number)"));

    [Test]
    public void NullText_IsNamed() =>
        Assert.That(FailureOf("{\"text\": null}"), Is.EqualTo("field \"text\" is not a string (got Null)"));

    [Test]
    public void NeitherLayout_NamesText() =>
        Assert.That(FailureOf("{\"content\": \"x\"}"), Does.StartWith("field \"text\" is missing"));

    [Test]
    public void BothLayouts_AreRejected() =>
        Assert.That(FailureOf("{\"text\": \"x\", \"prompt\": \"y\", \"completion\": \"z\"}"), Does.StartWith("has both \"text\" and \"prompt\""));

    [Test]
    public void InvalidJson_IsNamed() =>
        Assert.That(FailureOf("{\"text\": \"unterminated}"), Does.StartWith("invalid JSON: "));
}
