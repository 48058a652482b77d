using System.Text.Json;
using RlhfCore.IO;

namespace RlhfCore.Training;

/// <summary>
/// <c>run.json</c> in a run's output folder: which run owns the folder (its id, also written into every
/// checkpoint's manifest and into config.json), the command that started it, and when.
/// </summary>
public sealed record RunIdentity(string RunId, string Command, DateTime StartedUtc)
{
    /// <summary>The file name in the output folder.</summary>
    public const string FileName = "run.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>A fresh run id (32 hex digits).</summary>
    public static string NewRunId() => Guid.NewGuid().ToString("N");

    /// <summary>The identity recorded in <paramref name="outDir"/>, or null when there is none; an error naming the file when it is unreadable.</summary>
    public static RunIdentity? Read(string outDir)
    {
        string path = Path.Combine(outDir, FileName);
        if (!File.Exists(path)) return null;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException e) when (e is not FileNotFoundException)
        {
            // A running rlhf holds run.json locked (see RunFolder).
            throw new IOException($"{path} cannot be read, probably because another rlhf process is running in {outDir}: {e.Message}", e);
        }
        try
        {
            var id = JsonSerializer.Deserialize<RunIdentity>(text, Json);
            return id is { RunId.Length: > 0, Command.Length: > 0 } ? id : throw new InvalidDataException($"{path}: runId or command is missing");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})", e);
        }
    }

    /// <summary>Writes this identity as <paramref name="outDir"/>/run.json (atomically).</summary>
    public void Write(string outDir) => AtomicFile.Write(Path.Combine(outDir, FileName), s => JsonSerializer.Serialize(s, this, Json));
}
