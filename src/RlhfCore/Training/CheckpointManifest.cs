using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using RlhfCore.IO;

namespace RlhfCore.Training;

/// <summary>One file of a checkpoint as the manifest records it.</summary>
/// <param name="Name">File name inside the step folder.</param>
/// <param name="Bytes">Size in bytes.</param>
/// <param name="Sha256">SHA-256 of the content, lower-case hex.</param>
public sealed record CheckpointFileEntry(string Name, long Bytes, string Sha256);

/// <summary>
/// <c>manifest.json</c> of a checkpoint folder: the run that wrote it, its step, and the size and SHA-256
/// of every other file in the folder. Written last, inside the folder's temporary name, so a folder that
/// carries a manifest was written whole by one run; <see cref="Verify"/> proves the files are still those.
/// </summary>
public sealed record CheckpointManifest(string RunId, int Step, IReadOnlyList<CheckpointFileEntry> Files)
{
    /// <summary>The manifest's file name inside a step folder.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Hashes every file in <paramref name="dir"/> and writes the manifest beside them.</summary>
    public static CheckpointManifest Write(string dir, string runId, int step)
    {
        var files = Directory.GetFiles(dir).Select(Path.GetFileName).OfType<string>()
            .Where(n => n != FileName).Order(StringComparer.Ordinal)
            .Select(n => Describe(Path.Combine(dir, n))).ToList();
        var manifest = new CheckpointManifest(runId, step, files);
        AtomicFile.Write(Path.Combine(dir, FileName), s => JsonSerializer.Serialize(s, manifest, Json));
        return manifest;
    }

    /// <summary>Reads the manifest of <paramref name="dir"/>; an error naming the folder when it is missing or unreadable.</summary>
    public static CheckpointManifest Read(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
            throw new CheckpointException(dir, $"checkpoint has no {FileName}: it is incomplete, or was written by an RlhfCore without manifests; it cannot be resumed");
        try
        {
            var m = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), Json);
            if (m is null || m.RunId is not { Length: > 0 } || m.Files is null)
                throw new CheckpointException(dir, $"{FileName} lacks runId or files");
            return m;
        }
        catch (JsonException e)
        {
            throw new CheckpointException(dir, $"{FileName} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks that <paramref name="dir"/> holds exactly the files this manifest lists, with their sizes and hashes, that
    /// the folder's step is the manifest's, and (when given) that it belongs to run <paramref name="expectedRunId"/>.
    /// Throws <see cref="CheckpointException"/> naming the folder and the first file that does not match.
    /// </summary>
    public void Verify(string dir, int folderStep, string? expectedRunId)
    {
        if (expectedRunId != null && RunId != expectedRunId)
            throw new CheckpointException(dir, $"checkpoint belongs to run {RunId}, but this output folder's run is {expectedRunId} (run.json); it cannot be resumed here");
        if (Step != folderStep)
            throw new CheckpointException(dir, $"{FileName} says step {Step}, but the folder is step {folderStep}");
        var listed = Files.ToDictionary(f => f.Name, StringComparer.Ordinal);
        foreach (var name in Directory.GetFiles(dir).Select(Path.GetFileName).OfType<string>())
            if (name != FileName && !listed.ContainsKey(name))
                throw new CheckpointException(dir, $"{name} is not in {FileName}: the folder mixes files of another save; it cannot be resumed");
        foreach (var f in Files)
        {
            string path = Path.Combine(dir, f.Name);
            if (!File.Exists(path)) throw new CheckpointException(dir, $"{f.Name} is missing (listed in {FileName}); the checkpoint is incomplete");
            var actual = Describe(path);
            if (actual.Bytes != f.Bytes)
                throw new CheckpointException(dir, $"{f.Name} has {actual.Bytes} bytes, {FileName} says {f.Bytes}: the file was changed or comes from another run");
            if (!string.Equals(actual.Sha256, f.Sha256, StringComparison.Ordinal))
                throw new CheckpointException(dir, $"{f.Name} does not match its SHA-256 in {FileName}: the file was changed or comes from another run");
        }
    }

    private static CheckpointFileEntry Describe(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        byte[] hash = SHA256.HashData(fs);
        return new CheckpointFileEntry(Path.GetFileName(path), fs.Length, Convert.ToHexStringLower(hash));
    }
}
