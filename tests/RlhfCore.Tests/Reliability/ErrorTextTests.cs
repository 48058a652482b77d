using RlhfCore.Model;
using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Finding 6 of issue 12: error texts that named no field, a flag that does not exist, or the wrong thing.
/// Each now says what is wrong and what to do, in one line.
/// </summary>
public class ErrorTextTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void SftTooLong_NamesRealFlags_AndOverlongTruncateWorks()
    {
        string data = _files.Write("long.jsonl", "{\"prompt\":\"1+1=\",\"completion\":\"" + new string('2', 40) + "\"}\n");
        string[] run = ["sft", "--data", data, "--model", "byte-tiny", "--seq-len", "8", "--steps", "1", "--batch", "1", "--threads", "1",
            "--eval-fraction", "0", "--checkpoint-every", "0", "--out-dir", _files.Missing("o")];
        var r = Cli.InProcess(run);
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Does.Contain("long.jsonl line 1: the example is 45 tokens, longer than the context of 8 + 1 (raise --seq-len, or cut it with --overlong Truncate)"));
        Assert.That(r.Stderr, Does.Not.Contain("OverlongPolicy").And.Not.Contain("--seq "));
        r = Cli.InProcess([.. run, "--overlong", "Truncate"]);
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
    }

    [Test]
    public void RewardMissingRejected_NamesTheFieldAndLine()
    {
        string data = _files.Write("p.jsonl", "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\",\"chosen\":\"b\"}\n");
        var r = Cli.InProcess("reward", "--data", data, "--steps", "1", "--out-dir", _files.Missing("o"));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Is.EqualTo($"error: {data} line 2: field \"rejected\" is missing (the file's first line is a pairs record, which needs \"prompt\", \"chosen\", \"rejected\")"));
    }

    [Test]
    public void RewardMissingTwoFields_NamesBoth()
    {
        string data = _files.Write("p.jsonl", "{\"prompt\":\"a\",\"chosen\":\"b\",\"rejected\":\"c\"}\n{\"prompt\":\"a\"}\n");
        var r = Cli.InProcess("reward", "--data", data, "--steps", "1", "--out-dir", _files.Missing("o"));
        Assert.That(r.ErrorLines.Single(), Does.Contain("line 2: lacks fields \"chosen\", \"rejected\""));
    }

    [Test]
    public void DirectoryAsModel_SaysItIsADirectory_AndWhichFileIsExpected()
    {
        string dir = Path.GetDirectoryName(TinyModel.Save(_files.Missing("run/model.safetensors")))!;
        var r = Cli.InProcess("generate", "--model", dir);
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Is.EqualTo($"error: {dir} is a directory; a model is a file: a .safetensors (Hugging Face GPT-2 layout) or an llm.c .bin, such as {Path.Combine(dir, "model.safetensors")}"));
    }

    [Test]
    public void RealHhFile_StopsAtLine87_NamingSkipInvalid()
    {
        string hh = TestData.Require("hh-rlhf/harmless-base-test.jsonl.gz");
        var r = Cli.InProcess("reward", "--data", hh, "--steps", "1", "--out-dir", _files.Missing("o"));
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines.Single(), Does.Contain("line 87: field \"chosen\" is empty").And.Contain("--skip-invalid"));
    }
}
