using System.Diagnostics;
using RlhfCore.IO;

namespace RlhfCore.Tests.Cli;

/// <summary>
/// The <c>rlhf</c> command run as a process, the way people use it: bad input gives exit code 1 and one
/// line naming the file, line or field (no stack trace), and a small run writes every promised output.
/// </summary>
public class CliTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "rlhf-cli-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Rlhf(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(120_000)) { p.Kill(true); Assert.Fail("rlhf did not finish in 120 s"); }
        return (p.ExitCode, stdout + stderr.Result);
    }

    private static string Flat(string s) => string.Join(" ", s.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));

    [Test]
    public void SftOnABadJsonlLine_NamesFileLineAndField_AndWritesNoModel()
    {
        string data = Path.Combine(_dir, "data.jsonl");
        File.WriteAllLines(data, ["{\"prompt\":\"1+1=\",\"completion\":\"2\"}", "{\"prompt\":\"2+2=\"}"]);
        string outDir = Path.Combine(_dir, "run");
        var (code, output) = Rlhf("sft", "--data", data, "--model", "byte-tiny", "--steps", "2", "--out-dir", outDir);
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("data.jsonl line 2").And.Contain("\"completion\""));
        Assert.That(output, Does.Not.Contain("   at "), "no stack trace");
        Assert.That(File.Exists(Path.Combine(outDir, "model.safetensors")), Is.False);
    }

    [Test]
    public void SftWithTelemetry_WritesTheRecordedStepsAndHeatmaps()
    {
        string shard = Path.Combine(_dir, "train.bin");
        LlmcTokenShard.Write(shard, Enumerable.Range(0, 2000).Select(i => "abcabcabd"[i % 9] + 0).ToArray());
        string outDir = Path.Combine(_dir, "run");
        var (code, output) = Rlhf("sft", "--data", shard, "--model", "byte-tiny", "--steps", "5", "--batch", "2", "--seq-len", "8",
            "--telemetry-every", "2", "--out-dir", outDir);
        Assert.That(code, Is.EqualTo(0), output);
        var steps = File.ReadAllLines(Path.Combine(outDir, "telemetry.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).Distinct();
        Assert.That(steps, Is.EqualTo(new[] { 2, 4 }));
        Assert.That(File.Exists(Path.Combine(outDir, "telemetry-update_ratio.svg")));
        var (bad, message) = Rlhf("sft", "--data", shard, "--model", "byte-tiny", "--telemetry-every", "-1", "--out-dir", Path.Combine(_dir, "bad"));
        Assert.That(bad, Is.EqualTo(2), message);
        Assert.That(message, Does.Contain("--telemetry-every"));
    }

    [TestCase("reward", "--batch", "4")]
    [TestCase("ppo", "--reward", "gold", "--prompts-per-step", "2", "--mini-batch", "2", "--epochs", "1")]
    public void EveryTrainingCommand_RecordsTelemetryThroughTheScaffold(string command, params string[] own)
    {
        // --telemetry-every lives on the options base, so reward and PPO record it as SFT does.
        string outDir = Path.Combine(_dir, command);
        var (code, output) = Rlhf([command, "--model", "byte-tiny", "--steps", "4", "--telemetry-every", "2", "--checkpoint-every", "0", .. own, "--out-dir", outDir]);
        Assert.That(code, Is.EqualTo(0), output);
        var steps = File.ReadAllLines(Path.Combine(outDir, "telemetry.jsonl")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()).Distinct().ToList();
        Assert.That(steps, Is.Not.Empty.And.Ordered.And.All.Matches<int>(s => s % 2 == 0), "every second optimizer step");
        Assert.That(File.Exists(Path.Combine(outDir, "telemetry-update_ratio.svg")));
    }

    [Test]
    public void BenchOptimizers_PrintsEveryRuleSideBySide_AndNamesTheFlagWhenTheDataIsMissing()
    {
        string data = TestData.Require(Path.Combine("tinyshakespeare", "input.txt"));
        var (code, output) = Rlhf("bench", "--optimizers", "--preset", "byte-tiny", "--train-steps", "10", "--train-batch", "2", "--train-seq", "16", "--data", data);
        Assert.That(code, Is.EqualTo(0), output);
        foreach (var rule in new[] { "AdamW", "Sgd", "Lion", "Muon", "Adafactor" })
            Assert.That(output, Does.Match($@"│ {rule} +│ [0-9.e-]+ +│ [0-9.]+ +│ [0-9.]+ +│ [0-9.]+ +│ [0-9.]+ +│ 0 "), rule);
        var (missing, message) = Rlhf("bench", "--optimizers", "--data", Path.Combine(_dir, "absent.txt"));
        Assert.That(missing, Is.EqualTo(1), message);
        Assert.That(Flat(message), Does.Contain("--data").And.Contain("absent.txt: no such file"));
    }

    [Test]
    public void SftOnAnLlmcTokenShard_ThenInfoEvalAndGenerate()
    {
        string shard = Path.Combine(_dir, "train.bin");
        var rng = new Random(1);
        LlmcTokenShard.Write(shard, Enumerable.Range(0, 4000).Select(i => "abcabcabd"[i % 9] + 0).ToArray());
        string outDir = Path.Combine(_dir, "run");
        var (code, output) = Rlhf("sft", "--data", shard, "--model", "byte-tiny", "--steps", "6", "--batch", "2", "--seq-len", "16",
            "--eval-every", "3", "--checkpoint-every", "3", "--out-dir", outDir);
        Assert.That(code, Is.EqualTo(0), output);
        foreach (var f in new[] { "config.json", "metrics.jsonl", "metrics.csv", "loss.svg", "model.safetensors", "checkpoint/latest" })
            Assert.That(File.Exists(Path.Combine(outDir, f)), $"{f} written");
        Assert.That(File.ReadAllLines(Path.Combine(outDir, "metrics.jsonl")), Has.Length.EqualTo(6));

        string model = Path.Combine(outDir, "model.safetensors");
        (code, output) = Rlhf("info", model);
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("260").And.Contain("layers"));
        (code, output) = Rlhf("eval", "--model", model, "--data", shard, "--batch", "2", "--seq", "16");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("perplexity"));
        (code, output) = Rlhf("generate", "--model", model, "--prompt", "abc", "--max-new-tokens", "5", "--temperature", "0");
        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("abc"));
    }

    [Test]
    public void InfoOnATruncatedCheckpoint_NamesTheFile_AndLeavesItAlone()
    {
        string src = TestData.Require("gpt2-tiny-random/model.safetensors");
        string cut = Path.Combine(_dir, "cut.safetensors");
        var bytes = File.ReadAllBytes(src);
        File.WriteAllBytes(cut, bytes[..(bytes.Length - 100)]);
        var (code, output) = Rlhf("info", cut);
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("cut.safetensors"));
        Assert.That(output, Does.Not.Contain("   at "));
        Assert.That(File.ReadAllBytes(cut), Has.Length.EqualTo(bytes.Length - 100));
    }

    [Test]
    public void TokenOutsideTheVocabulary_IsNamed()
    {
        string shard = Path.Combine(_dir, "bad.bin");
        LlmcTokenShard.Write(shard, Enumerable.Range(0, 200).Select(i => i == 57 ? 300 : 97).ToArray());
        var (code, output) = Rlhf("sft", "--data", shard, "--model", "byte-tiny", "--steps", "2", "--seq-len", "8", "--out-dir", Path.Combine(_dir, "run"));
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("300"));
    }

    [Test]
    public void SequenceLongerThanTheContext_IsAClearError()
    {
        var (code, output) = Rlhf("bench", "--config", "byte-tiny", "--seq", "999", "--steps", "1");
        Assert.That(code, Is.EqualTo(1), output);
        Assert.That(Flat(output), Does.Contain("--seq 999").And.Contain("context"));
    }
}
