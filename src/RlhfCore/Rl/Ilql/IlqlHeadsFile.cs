using RlhfCore.Backends;
using RlhfCore.IO;

namespace RlhfCore.Rl.Ilql;

/// <summary>
/// ILQL's heads saved beside a policy's model.safetensors as <see cref="FileName"/>: every tensor of
/// <see cref="IlqlHeads.Parameters"/> under its own name (<c>q0.weight</c> [V, C], <c>q0.bias</c>, <c>q1.*</c> with two Q heads,
/// <c>target_q0.*</c>, <c>target_q1.*</c>, <c>v.weight</c> [1, C], <c>v.bias</c>) and metadata <c>format</c> = <see cref="Format"/>. The
/// model file stays a plain GPT-2 checkpoint that every other command loads; decoding with the heads needs both.
/// </summary>
public static class IlqlHeadsFile
{
    /// <summary>The file's name beside model.safetensors.</summary>
    public const string FileName = "ilql_heads.safetensors";

    /// <summary>The metadata value that marks the file.</summary>
    public const string Format = "rlhfcore-ilql-heads";

    /// <summary>Writes <paramref name="heads"/> to <paramref name="path"/>.</summary>
    public static void Save(string path, IlqlHeads heads, IBackend backend) =>
        TensorFile.SaveTensors(path, backend, TensorFile.Named("", heads.Parameters), new Dictionary<string, string>
        {
            ["format"] = Format,
            ["two_qs"] = heads.QHeads == 2 ? "true" : "false",
        });

    /// <summary>Fills <paramref name="heads"/> from <paramref name="path"/>; a missing tensor or another shape is an error naming the file.</summary>
    public static void LoadInto(string path, IlqlHeads heads, IBackend backend)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ILQL heads file not found: {path}", path);
        TensorFile.LoadTensors(path, backend, TensorFile.Named("", heads.Parameters));
    }

    /// <summary>Width C, vocabulary V and Q heads of the file at <paramref name="path"/>, read from its header.</summary>
    public static (int C, int V, int QHeads) Describe(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"ILQL heads file not found: {path}", path);
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != Format || !file.Contains("q0.weight"))
            throw new CheckpointException(path, $"is not an ILQL heads file (its metadata has no format \"{Format}\" or it has no q0.weight); rlhf ilql writes one as {FileName}");
        var shape = file["q0.weight"].Shape;
        if (shape.Length != 2) throw new CheckpointException(path, $"q0.weight has shape {file["q0.weight"].ShapeText}, expected [V, C]");
        return (checked((int)shape[1]), checked((int)shape[0]), file.Contains("q1.weight") ? 2 : 1);
    }

    /// <summary>New heads on <paramref name="backend"/> for up to <paramref name="maxRows"/> token rows, shaped and filled from <paramref name="path"/>.</summary>
    public static IlqlHeads Load(string path, IBackend backend, int maxRows)
    {
        var (C, V, q) = Describe(path);
        var heads = new IlqlHeads(backend, C, V, maxRows, twoQs: q == 2);
        try
        {
            LoadInto(path, heads, backend);
            return heads;
        }
        catch
        {
            heads.Dispose();
            throw;
        }
    }
}
