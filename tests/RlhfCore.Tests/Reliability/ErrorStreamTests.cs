using RlhfCore.Tests.Data;

namespace RlhfCore.Tests.Reliability;

/// <summary>
/// Findings 3 and 6 of issue 12, as users see them from a shell: errors go to standard error, one line
/// each however long, with no escape codes when redirected; data printed through the console is escaped
/// (tensor shapes, generated text), so <c>info --tensors</c> works and <c>(no EOS)</c> is not printed as markup.
/// </summary>
public class ErrorStreamTests
{
    private TempFiles _files = null!;

    [SetUp] public void SetUp() => _files = new TempFiles();
    [TearDown] public void TearDown() => _files.Dispose();

    [Test]
    public void Errors_GoToStderr_OnOneLine_WithoutColourWhenRedirected()
    {
        // NO_COLOR unset: redirection alone must turn colour off.
        string missing = _files.Missing(new string('d', 120) + ".jsonl");
        var r = Cli.Process(["sft", "--data", missing, "--model", "byte-tiny", "--steps", "1", "--out-dir", _files.Missing("o")], noColor: false);
        Assert.That(r.Code, Is.EqualTo(1), r.ToString());
        Assert.That(r.Stdout, Does.Not.Contain("error"), "errors are not on stdout");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(missing), "the whole message on one line, no wrapping at 80 columns");
        Assert.That(r.Stderr, Does.Not.Contain("\u001b["), "no ANSI escape codes when stderr is redirected");
    }

    [Test]
    public void BadFlag_IsExitCode2_OnStderr_WithoutHelpText()
    {
        var r = Cli.Process(["sft", "--batch", "2147483647"], noColor: false);
        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.Stdout, Is.Empty);
        Assert.That(r.Stderr, Does.StartWith("error: --batch: 2147483647 is above the maximum 65536\n"));
        Assert.That(r.Stderr, Does.Not.Contain("OverflowException").And.Not.Contain("Usage:"));
    }

    [Test]
    public void InfoTensors_PrintsShapesOfAValidFile()
    {
        string model = TestData.Require("gpt2-tiny-random/model.safetensors");
        var r = Cli.Process(["info", model, "--tensors"]);
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Does.Contain("[50257, 2]").And.Contain("wte"));
        Assert.That(r.Stderr, Is.Empty);
    }

    [Test]
    public void Generate_WithoutEos_SaysSoInPlainText_AndPrintsBracketsAsTyped()
    {
        string model = TinyModel.Save(_files.Missing("m.safetensors"));
        var r = Cli.Process(["generate", "--model", model, "--prompt", "[red]x[/]", "--max-new-tokens", "2", "--ignore-eos", "--threads", "1"]);
        Assert.That(r.Code, Is.EqualTo(0), r.ToString());
        Assert.That(r.Stdout, Does.StartWith("[red]x[/]").And.Contain(" (no EOS)"));
        Assert.That(r.Stdout, Does.Not.Contain("[grey]"));
    }
}
