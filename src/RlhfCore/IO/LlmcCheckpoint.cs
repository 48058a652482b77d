using System.Runtime.InteropServices;
using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.IO;

/// <summary>The header of an llm.c GPT-2 checkpoint.</summary>
/// <param name="Config">The architecture (with the real, unpadded vocabulary).</param>
/// <param name="PaddedVocab">Rows of the stored token embedding (llm.c pads V up, usually to a multiple of 128).</param>
public sealed record LlmcCheckpointInfo(GptConfig Config, int PaddedVocab);

/// <summary>
/// llm.c's GPT-2 checkpoints (<c>gpt2_124M.bin</c>): a 256-int32 header (magic 20240326, version 3 = fp32,
/// maxT, V, L, NH, C, Vp), then fp32 parameters in llm.c's order with the layers stacked per tensor kind.
/// llm.c's matmul weights are <c>[out, in]</c> like ours, so nothing is transposed; the padded vocabulary
/// rows <c>V..Vp-1</c> of wte are dropped on load and written as zeros on save.
/// </summary>
public static class LlmcCheckpoint
{
    /// <summary>Header magic number.</summary>
    public const int Magic = 20240326;

    /// <summary>The supported version: fp32 parameters.</summary>
    public const int Version = 3;

    /// <summary>Per-layer tensors in llm.c's order (each stacked over layers in the file).</summary>
    private static readonly string[] LayerTensors =
    [
        "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
        "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
    ];

    /// <summary>Reads and validates the header of <paramref name="path"/>, including the exact file size.</summary>
    /// <exception cref="CheckpointException">Bad magic, unsupported version, impossible sizes, or a size mismatch.</exception>
    public static LlmcCheckpointInfo ReadInfo(string path)
    {
        var h = LlmcHeader.Read(path, "checkpoint", out long fileBytes);
        if (h[0] != Magic)
            throw new CheckpointException(path, $"bad magic {h[0]} in header[0]; an llm.c GPT-2 checkpoint starts with {Magic}");
        if (h[1] != Version)
            throw new CheckpointException(path, h[1] == 5
                ? "version 5 (bf16) llm.c checkpoints are not supported; export the fp32 checkpoint (version 3)"
                : $"unsupported llm.c checkpoint version {h[1]} in header[1]; only version {Version} (fp32) is supported");
        int maxT = h[2], V = h[3], L = h[4], NH = h[5], C = h[6], Vp = h[7];
        GptConfig config;
        try { config = new GptConfig(V, maxT, L, NH, C).Validate(); }
        catch (ArgumentException e) { throw new CheckpointException(path, $"header describes an impossible model: {e.Message}", e); }
        if (Vp < V) throw new CheckpointException(path, $"padded vocabulary header[7] = {Vp} is smaller than the vocabulary header[3] = {V}");

        // Computed from the formula, not from the parameter table: the header is untrusted until the size
        // matches, and a corrupt layer count must not build a huge table first.
        long expected;
        try
        {
            long c = C, perLayer = checked(12 * c * c + 13 * c);
            expected = checked(LlmcHeader.Bytes + 4 * ((long)Vp * c + (long)maxT * c + L * perLayer + 2 * c));
        }
        catch (OverflowException) { throw new CheckpointException(path, "header sizes overflow a 64-bit file size"); }
        if (fileBytes != expected)
            throw new CheckpointException(path, $"file is {fileBytes} bytes but its header (maxT {maxT}, V {V}, L {L}, C {C}, Vp {Vp}) needs exactly {expected}");
        return new LlmcCheckpointInfo(config, Vp);
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="parameters"/>, an arena laid out by
    /// <see cref="GptParameters.Table"/> for the file's config (heads, if any, are left untouched).
    /// </summary>
    public static void Load(string path, TensorArena parameters, IBackend backend)
    {
        if (!ReferenceEquals(backend, parameters.Backend))
            throw new ArgumentException("the parameter arena belongs to another backend", nameof(backend));
        var info = ReadInfo(path);
        var segments = Segments(info.Config, info.PaddedVocab);
        foreach (var s in segments)
        {
            if (s.Name == null) continue;
            if (!parameters.Contains(s.Name) || parameters[s.Name].Length != s.Floats)
                throw new CheckpointException(path,
                    $"tensor '{s.Name}' ({s.Floats} floats for config {info.Config}) does not fit the parameter arena; build it with GptParameters.Table of that config");
        }
        using var fs = LlmcHeader.OpenRead(path, "checkpoint");
        fs.Seek(LlmcHeader.Bytes, SeekOrigin.Begin);
        foreach (var s in segments)
        {
            if (s.Name == null) { fs.Seek(4 * s.Floats, SeekOrigin.Current); continue; }
            var values = new float[s.Floats];
            fs.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            backend.Upload<float>(parameters[s.Name], values);
        }
    }

    /// <summary>
    /// Writes <paramref name="parameters"/> (laid out by <see cref="GptParameters.Table"/> for <paramref name="config"/>)
    /// as an fp32 llm.c checkpoint, atomically. <paramref name="paddedVocab"/> defaults to V rounded up to 128, as llm.c does.
    /// </summary>
    public static void Save(string path, GptConfig config, TensorArena parameters, int paddedVocab = 0)
    {
        config.Validate();
        int Vp = paddedVocab > 0 ? paddedVocab : (config.VocabSize + 127) / 128 * 128;
        if (Vp < config.VocabSize) throw new ArgumentOutOfRangeException(nameof(paddedVocab), $"padded vocabulary {Vp} is smaller than {config.VocabSize}");
        var segments = Segments(config, Vp);
        foreach (var s in segments)
            if (s.Name != null && (!parameters.Contains(s.Name) || parameters[s.Name].Length != s.Floats))
                throw new ArgumentException($"the parameter arena does not match {config} at '{s.Name}'", nameof(parameters));

        AtomicFile.Write(path, fs =>
        {
            LlmcHeader.Write(fs, Magic, Version, config.MaxSeqLen, config.VocabSize, config.NumLayers, config.NumHeads, config.Channels, Vp);
            foreach (var s in segments)
            {
                var values = new float[s.Floats];
                if (s.Name != null) parameters.Backend.Download<float>(parameters[s.Name], values);
                fs.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }
        });
    }

    /// <summary>One run of floats in the file: a parameter of ours, or (Name null) vocabulary padding.</summary>
    private readonly record struct Segment(string? Name, long Floats);

    /// <summary>The file's float runs in order: wte (then its padding rows), wpe, each layer tensor kind for all layers, ln_f.</summary>
    private static List<Segment> Segments(GptConfig config, int paddedVocab)
    {
        var table = GptParameters.Table(config).ToDictionary(s => s.Name, s => s.Length);
        long C = config.Channels;
        var list = new List<Segment>
        {
            new("wte.weight", checked(config.VocabSize * C)),
            new(null, checked((paddedVocab - (long)config.VocabSize) * C)),
            new("wpe.weight", checked(config.MaxSeqLen * C)),
        };
        foreach (var kind in LayerTensors)
            for (int l = 0; l < config.NumLayers; l++)
            {
                string name = GptParameters.Layer(l) + kind;
                list.Add(new(name, table[name]));
            }
        list.Add(new("ln_f.weight", C));
        list.Add(new("ln_f.bias", C));
        return list;
    }
}
