using System.Text.Json;
using RlhfCore.IO;

namespace RlhfCore.Tests.IO;

public class MetricsLogTests
{
    private static string[] ReadLines(string path)
    {
        // The log keeps its files open; read them the way a tail or a dashboard would, while it runs.
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(fs);
        return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Test]
    public void Rows_AreJsonlAndCsv_WithHeaderTheUnionOfKeys_FlushedPerRow()
    {
        using var dir = new TempDir();
        using var log = new MetricsLog(dir.File("run/metrics.jsonl"));
        log.Log(1, new Dictionary<string, double> { ["loss"] = 2.5, ["lr"] = 1e-4 });
        // Visible before any dispose: a crash now would lose nothing.
        Assert.That(ReadLines(log.JsonlPath), Is.EqualTo(new[] { "{\"step\":1,\"loss\":2.5,\"lr\":0.0001}" }));
        Assert.That(ReadLines(log.CsvPath), Is.EqualTo(new[] { "step,loss,lr", "1,2.5,0.0001" }));

        log.Log(2, new Dictionary<string, double> { ["loss"] = 2.25, ["lr"] = 2e-4 });
        log.Log(3, new Dictionary<string, double> { ["loss"] = double.NaN, ["objective/kl"] = 0.5, ["policy/clipfrac_avg"] = double.PositiveInfinity });
        log.Log(4, new Dictionary<string, double> { ["a,b"] = -1 });

        var json = ReadLines(log.JsonlPath);
        Assert.That(json, Has.Length.EqualTo(4));
        using (var row = JsonDocument.Parse(json[2]))
        {
            Assert.That(row.RootElement.GetProperty("step").GetInt64(), Is.EqualTo(3));
            Assert.That(row.RootElement.GetProperty("loss").GetString(), Is.EqualTo("NaN"));
            Assert.That(row.RootElement.GetProperty("objective/kl").GetDouble(), Is.EqualTo(0.5));
            Assert.That(row.RootElement.GetProperty("policy/clipfrac_avg").GetString(), Is.EqualTo("Infinity"));
        }
        Assert.That(ReadLines(log.CsvPath), Is.EqualTo(new[]
        {
            "step,loss,lr,objective/kl,policy/clipfrac_avg,\"a,b\"",
            "1,2.5,0.0001,,,",
            "2,2.25,0.0002,,,",
            "3,NaN,,0.5,Infinity,",
            "4,,,,,-1",
        }));
        Assert.That(log.Columns, Is.EqualTo(new[] { "loss", "lr", "objective/kl", "policy/clipfrac_avg", "a,b" }));
        Assert.That(log.Series("loss").Take(2), Is.EqualTo(new[] { (1.0, 2.5), (2.0, 2.25) }));
        Assert.That(Directory.GetFiles(Path.GetDirectoryName(log.JsonlPath)!).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "metrics.csv", "metrics.jsonl" }));
    }

    [Test]
    public void StepAsMetricName_IsRejected()
    {
        using var dir = new TempDir();
        using var log = new MetricsLog(dir.File("m.jsonl"));
        Assert.Throws<ArgumentException>(() => log.Log(1, new Dictionary<string, double> { ["step"] = 1 }));
    }
}
