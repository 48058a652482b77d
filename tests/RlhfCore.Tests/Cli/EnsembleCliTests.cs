using System.Diagnostics;

namespace RlhfCore.Tests.Cli;

/// <summary>
/// The ensemble end to end through the rlhf binary: reward --ensemble 2 writes one artifact that info
/// describes, best-of-n and overopt read it with an aggregate, and one model with min is one clear error.
/// </summary>
public class EnsembleCliTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "rlhf-ens-cli-" + Guid.NewGuid().ToString("N")));

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static (int Code, string Output) Rlhf(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rlhf.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        psi.Environment["COLUMNS"] = "250";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(180_000)) { p.Kill(true); Assert.Fail("rlhf did not finish in 180 s"); }
        return (p.ExitCode, Flat(stdout + stderr.Result));
    }

    /// <summary>The output as one line: the console wraps long messages.</summary>
    private static string Flat(string s) => string.Join(" ", s.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));

    [Test]
    public void EnsembleOfTwo_IsOneArtifact_ThatInfoBestOfNAndOveroptRead()
    {
        string ens = Path.Combine(_dir, "rm");
        var (code, output) = Rlhf("reward", "--ensemble", "2", "--model", "byte-tiny", "--steps", "3", "--batch", "4", "--warmup", "0",
            "--eval-fraction", "0.002", "--threads", "2", "--out-dir", ens);
        Assert.That(code, Is.Zero, output);
        foreach (var f in new[] { "ensemble.json", "member-0/model.safetensors", "member-1/model.safetensors", "member-1/metrics.jsonl", "reliability.svg", "diagnostics.json" })
            Assert.That(File.Exists(Path.Combine(ens, f)), f);
        Assert.That(output, Does.Contain("ECE").And.Contain("disagreement"));

        (code, output) = Rlhf("info", ens);
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("of 2 members (started from fresh)").And.Contain("member-1"));

        string member = Path.Combine(ens, "member-0", "model.safetensors");
        (code, output) = Rlhf("best-of-n", "--policy", member, "--reward-model", ens, "--reward-aggregate", "Min", "--n", "2", "--num-prompts", "4", "--threads", "2");
        Assert.That(code, Is.Zero, output);
        Assert.That(output, Does.Contain("reward-ensemble-2:min"));

        (code, output) = Rlhf("best-of-n", "--policy", member, "--reward-model", member, "--reward-aggregate", "MeanStd", "--num-prompts", "4");
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"--reward-aggregate MeanStd needs an ensemble of at least 2 reward models, but --reward-model {member} has 1"));

        string out2 = Path.Combine(_dir, "overopt");
        (code, output) = Rlhf("overopt", "--policy", member, "--reward-model", ens, "--max-n", "4", "--num-prompts", "6", "--threads", "2", "--out-dir", out2);
        Assert.That(code, Is.Zero, output);
        foreach (var f in new[] { "overopt.json", "overopt.csv", "overopt.svg" }) Assert.That(File.Exists(Path.Combine(out2, f)), f);
        Assert.That(File.ReadAllLines(Path.Combine(out2, "overopt.csv")), Has.Length.EqualTo(4), "header + n = 1, 2, 4");
    }

    [Test]
    public void PpoWithOneModelAndMin_IsOneErrorBeforeAnyWork()
    {
        string rm = Path.Combine(_dir, "rm");
        var (code, output) = Rlhf("reward", "--model", "byte-tiny", "--steps", "1", "--batch", "2", "--warmup", "0", "--eval-fraction", "0", "--out-dir", rm);
        Assert.That(code, Is.Zero, output);
        string model = Path.Combine(rm, "model.safetensors");
        (code, output) = Rlhf("ppo", "--reward-model", model, "--reward-aggregate", "Min", "--model", "byte-tiny", "--steps", "1", "--out-dir", Path.Combine(_dir, "ppo"));
        Assert.That(code, Is.EqualTo(1));
        Assert.That(output, Does.Contain("--reward-aggregate Min needs an ensemble of at least 2 reward models"));
        Assert.That(Directory.Exists(Path.Combine(_dir, "ppo")), Is.False, "nothing was written");
        (code, output) = Rlhf("ppo", "--reward-model", model, "--uncertainty-coef", "-1", "--model", "byte-tiny", "--steps", "1", "--out-dir", Path.Combine(_dir, "ppo"));
        Assert.That(code, Is.EqualTo(2), "a flag out of its range is a usage error");
        Assert.That(output, Does.Contain("--uncertainty-coef: -1 is below the minimum 0"));
    }
}
