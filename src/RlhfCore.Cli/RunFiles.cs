using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfCore.IO;

namespace RlhfCore.Cli;

/// <summary>The files every run writes beside its outputs: the resolved config and the metrics log.</summary>
internal static class RunFiles
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>Writes <paramref name="config"/> as <c>config.json</c> in <paramref name="outDir"/> (atomically).</summary>
    public static void WriteConfig(string outDir, object config)
    {
        Directory.CreateDirectory(outDir);
        AtomicFile.Write(Path.Combine(outDir, "config.json"), s => JsonSerializer.Serialize(s, config, config.GetType(), Json));
    }

    /// <summary>
    /// Opens <c>metrics.jsonl</c> (and its CSV) in <paramref name="outDir"/>. When resuming at
    /// <paramref name="keepBeforeStep"/>, the earlier rows are carried over so the log reads as one run.
    /// </summary>
    public static MetricsLog OpenMetrics(string outDir, long keepBeforeStep)
    {
        string path = Path.Combine(outDir, "metrics.jsonl");
        var kept = new List<(long Step, Dictionary<string, double> Values)>();
        if (keepBeforeStep > 0 && File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                using var doc = JsonDocument.Parse(line);
                long step = doc.RootElement.GetProperty("step").GetInt64();
                if (step >= keepBeforeStep) continue;
                var values = new Dictionary<string, double>();
                foreach (var p in doc.RootElement.EnumerateObject())
                    if (p.Name != "step") values[p.Name] = p.Value.ValueKind == JsonValueKind.Number ? p.Value.GetDouble() : double.Parse(p.Value.GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                kept.Add((step, values));
            }
        }
        var log = new MetricsLog(path);
        foreach (var (step, values) in kept) log.Log(step, values);
        return log;
    }
}
