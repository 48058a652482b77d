using System.Text.Json;
using RlhfCore.IO;

namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>One member of a saved ensemble.</summary>
/// <param name="File">Its safetensors file, relative to the ensemble folder.</param>
/// <param name="Seed">The seed of its head initialization and data order.</param>
/// <param name="BootstrapSeed">The seed of its bootstrap resample of the training feedback.</param>
/// <param name="TrainRecords">Feedback records in its resample.</param>
public sealed record EnsembleMember(string File, ulong Seed, ulong BootstrapSeed, int TrainRecords);

/// <summary>
/// A reward-model ensemble on disk: a folder holding <c>ensemble.json</c> (this record) and one
/// safetensors file per member (<c>member-K/model.safetensors</c>). A plain model file is an ensemble of
/// one, so every consumer takes either.
/// </summary>
/// <param name="Members">The members, in order.</param>
/// <param name="Init">Where the members started: the trunk file, or "fresh".</param>
/// <param name="SharedTrunk">True when every member has member 0's trunk and differs only in its reward head (<see cref="LinearHeads"/>).</param>
public sealed record EnsembleManifest(IReadOnlyList<EnsembleMember> Members, string Init, bool SharedTrunk = false)
{
    /// <summary>The manifest's file name inside an ensemble folder.</summary>
    public const string FileName = "ensemble.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>True when <paramref name="path"/> is an ensemble folder or its <c>ensemble.json</c>.</summary>
    public static bool IsEnsemble(string path) =>
        Directory.Exists(path) ? File.Exists(Path.Combine(path, FileName)) : Path.GetFileName(path) == FileName;

    /// <summary>The ensemble folder of <paramref name="path"/> (a folder, or its ensemble.json).</summary>
    public static string Folder(string path) => Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;

    /// <summary>Reads the manifest of the ensemble at <paramref name="path"/>.</summary>
    public static EnsembleManifest Read(string path)
    {
        string file = Path.Combine(Folder(path), FileName);
        if (!File.Exists(file)) throw new FileNotFoundException($"not a reward-model ensemble: {file} is missing", file);
        EnsembleManifest? m;
        try { m = JsonSerializer.Deserialize<EnsembleManifest>(File.ReadAllText(file)); }
        catch (JsonException e) { throw new Data.DataFormatException(file, null, null, $"is not an ensemble manifest ({e.Message})"); }
        if (m?.Members is not { Count: > 0 }) throw new Data.DataFormatException(file, null, "Members", "lists no members");
        foreach (var member in m.Members)
            if (!File.Exists(Path.Combine(Folder(path), member.File)))
                throw new FileNotFoundException($"{file} lists member {member.File}, which is missing", member.File);
        return m;
    }

    /// <summary>Writes the manifest into <paramref name="folder"/> atomically.</summary>
    public void Write(string folder) =>
        AtomicFile.Write(Path.Combine(folder, FileName), s => JsonSerializer.Serialize(s, this, Json));

    /// <summary>The member files of <paramref name="path"/> as full paths: the members of an ensemble, or the one model file.</summary>
    public static IReadOnlyList<string> MemberFiles(string path) =>
        IsEnsemble(path) ? Read(path).Members.Select(m => Path.Combine(Folder(path), m.File)).ToList() : [path];
}
