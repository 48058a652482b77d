using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tests.Dpo;
using RlhfCore.Tests.IO;
using CliRunner = RlhfCore.Tests.Reliability.Cli;

namespace RlhfCore.Tests.Ilql;

/// <summary><c>rlhf ilql</c> end to end on a tiny model: it trains, writes the policy and the heads, resumes exactly; bad input is one clear error.</summary>
public class IlqlCliTests
{
    private static string[] Args(TempDir dir, string data, string outDir, int steps, params string[] more) =>
        ["ilql", "--data", data, "--model", dir.File("sft.safetensors"), "--steps", $"{steps}", "--batch", "4", "--seq-len", "12", "--lr", "3e-3", "--warmup", "0", "--schedule", "Constant",
            "--eval-every", "2", "--checkpoint-every", "2", "--threads", "1", "--out-dir", outDir, .. more];

    [Test]
    public void TrainsWritesPolicyAndHeads_AndResumesToTheSameWeights()
    {
        using var dir = new TempDir();
        DpoTestKit.SaveTinySft(dir);
        string data = dir.File("ratings.jsonl");
        File.WriteAllText(data, IlqlTestKit.RatingsJsonl(30));

        string straight = Path.Combine(dir.Path, "straight");
        var r = CliRunner.InProcess(Args(dir, data, straight, 4));
        Assert.That(r.Code, Is.Zero, r.ToString());
        foreach (var f in new[] { "model.safetensors", IlqlHeadsFile.FileName, "metrics.jsonl", "config.json", "loss.svg" })
            Assert.That(File.Exists(Path.Combine(straight, f)), f);
        string metrics = File.ReadAllText(Path.Combine(straight, "metrics.jsonl"));
        Assert.That(metrics, Does.Contain("\"losses/loss_q\"").And.Contain("\"losses/loss_awac\"").And.Contain("\"eval/losses/loss\""));
        Assert.That(IlqlHeadsFile.Describe(Path.Combine(straight, IlqlHeadsFile.FileName)), Is.EqualTo((16, 260, 2)));
        var info = CliRunner.Process(["info", Path.Combine(straight, "model.safetensors")]);
        Assert.That(info.Stdout, Does.Contain("ILQL heads"), info.ToString());

        // A constant rate, so a first run of 2 steps follows the same schedule as the first 2 of 4.
        string resumed = Path.Combine(dir.Path, "resumed");
        Assert.That(CliRunner.InProcess(Args(dir, data, resumed, 2)).Code, Is.Zero);
        var again = CliRunner.InProcess(Args(dir, data, resumed, 4, "--resume"));
        Assert.That(again.Code, Is.Zero, again.ToString());
        Assert.That(Read(resumed, "model.safetensors"), Is.EqualTo(Read(straight, "model.safetensors")), "the policy after resuming");
        Assert.That(Read(resumed, IlqlHeadsFile.FileName), Is.EqualTo(Read(straight, IlqlHeadsFile.FileName)), "the heads after resuming");
    }

    private static float[] Read(string dir, string file)
    {
        using var f = SafetensorsFile.Open(Path.Combine(dir, file));
        return [.. f.Entries.OrderBy(e => e.Name, StringComparer.Ordinal).SelectMany(e => f.ReadFloat32(e.Name))];
    }

    [Test]
    public void DataWithoutRewards_IsOneErrorNamingTheFile()
    {
        using var dir = new TempDir();
        DpoTestKit.SaveTinySft(dir);
        string data = dir.File("pairs.jsonl");
        File.WriteAllText(data, "{\"prompt\":\"1+1=\",\"chosen\":\"2\",\"rejected\":\"3\"}\n");
        var r = CliRunner.InProcess(Args(dir, data, Path.Combine(dir.Path, "out"), 1));
        Assert.That(r.Code, Is.Not.Zero, r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.Contain(data).And.Contain("no reward"));
    }

    [Test]
    public void TauOutsideTheUnitInterval_IsOneErrorNamingTheFlag()
    {
        using var dir = new TempDir();
        DpoTestKit.SaveTinySft(dir);
        string data = dir.File("ratings.jsonl");
        File.WriteAllText(data, IlqlTestKit.RatingsJsonl(5));
        var r = CliRunner.InProcess(Args(dir, data, Path.Combine(dir.Path, "out"), 1, "--tau", "1.5"));
        Assert.That(r.Code, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrorLines, Has.Length.EqualTo(1), r.ToString());
        Assert.That(r.ErrorLines[0], Does.Contain("--tau").And.Contain("1.5"));
    }
}
