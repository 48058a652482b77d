using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfCore.IO;
using RlhfCore.Training;

namespace RlhfCore.Cli;

/// <summary>
/// The files every run writes beside its outputs: the resolved config and the metrics log. A training run writes
/// them only after it has claimed its <see cref="RunFolder"/>, so they never replace another run's.
/// </summary>
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

    /// <summary>Claims <paramref name="run"/>'s folder (its first write) and says where an earlier run was moved by --overwrite.</summary>
    public static void ReportClaim(RunFolder run)
    {
        string? aside = run.Claim();
        if (aside != null) Spectre.Console.AnsiConsole.MarkupLineInterpolated($"--overwrite: moved the earlier run in {run.OutDir} aside to {aside}");
    }

    /// <summary>Writes <paramref name="config"/> with the run's id first as <c>config.json</c> in the claimed <paramref name="run"/> folder.</summary>
    public static void WriteConfig(RunFolder run, object config)
    {
        RequireClaimed(run);
        var node = JsonSerializer.SerializeToNode(config, config.GetType(), Json)!.AsObject();
        node.Insert(0, "runId", run.Identity.RunId);
        AtomicFile.Write(Path.Combine(run.OutDir, "config.json"), s => JsonSerializer.Serialize(s, node, Json));
    }

    /// <summary>
    /// Opens <c>metrics.jsonl</c> (and its CSV) in the claimed <paramref name="run"/> folder. When resuming at
    /// <paramref name="keepBeforeStep"/>, the earlier rows are carried over so the log reads as one run.
    /// </summary>
    public static MetricsLog OpenMetrics(RunFolder run, long keepBeforeStep)
    {
        RequireClaimed(run);
        string path = Path.Combine(run.OutDir, "metrics.jsonl");
        var kept = new List<(long Step, IReadOnlyDictionary<string, double> Values)>();
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
        return new MetricsLog(path, kept);
    }

    private static void RequireClaimed(RunFolder run)
    {
        if (!run.IsClaimed) throw new InvalidOperationException($"{run.OutDir}: the run writes its files only after claiming the folder");
    }
}
