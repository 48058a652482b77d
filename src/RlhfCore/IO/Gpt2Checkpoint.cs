using System.Runtime.InteropServices;
using System.Text.Json;
using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.IO;

/// <summary>
/// Hugging Face GPT-2 checkpoints in safetensors: reads files written by <c>transformers</c> (names with
/// or without <c>transformer.</c>, Conv1D weights <c>[in, out]</c>, tied <c>lm_head</c>) into a parameter
/// arena laid out by <see cref="GptParameters.Table"/>, and writes the same layout back, with our config
/// in <c>__metadata__</c>. Structural errors are <see cref="SafetensorsException"/>; content that does not
/// fit (a missing, unknown or misshaped tensor) is <see cref="CheckpointException"/>.
/// </summary>
public static class Gpt2Checkpoint
{
    /// <summary>Metadata key holding the <see cref="GptConfig"/> as JSON.</summary>
    public const string ConfigKey = "rlhfcore.config";

    /// <summary>Metadata key holding the <see cref="ModelHeads"/> flags.</summary>
    public const string HeadsKey = "rlhfcore.heads";

    /// <summary>Reads the config, heads and metadata of <paramref name="path"/> without loading tensors.</summary>
    /// <remarks>The number of attention heads is not in the tensor shapes: it comes from our metadata, or
    /// from the Hugging Face <c>config.json</c> beside the file.</remarks>
    public static GptCheckpointInfo ReadInfo(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var index = Index(file);
        var config = InferConfig(file, index);
        var heads = ModelHeads.None;
        if (index.ContainsKey(GptParameters.ValueWeight) || index.ContainsKey(GptParameters.ValueBias)) heads |= ModelHeads.Value;
        if (index.ContainsKey(GptParameters.RewardWeight)) heads |= ModelHeads.Reward;
        return new GptCheckpointInfo(config, heads, file.Metadata);
    }

    /// <summary>
    /// Loads <paramref name="path"/> into <paramref name="parameters"/> (a <see cref="GptParameters.Table"/>
    /// arena on <paramref name="backend"/>). Every trunk tensor must be present with the arena's shape
    /// (transposed for Conv1D); head tensors are loaded when present.
    /// </summary>
    public static GptLoadResult Load(string path, TensorArena parameters, IBackend backend)
    {
        if (!ReferenceEquals(backend, parameters.Backend))
            throw new ArgumentException("the parameter arena belongs to another backend", nameof(backend));
        using var file = SafetensorsFile.Open(path);
        var index = Index(file);
        var ignored = new List<string>();
        foreach (var (name, entry) in index)
        {
            switch (Gpt2Names.Classify(name, out _))
            {
                case Gpt2NameKind.Unknown:
                    throw new CheckpointException(path, $"tensor '{entry.Name}' is not a GPT-2 parameter name");
                case Gpt2NameKind.MaskBuffer:
                case Gpt2NameKind.Head when !parameters.Contains(name):
                    ignored.Add(entry.Name);
                    break;
                case Gpt2NameKind.Trunk when !parameters.Contains(name):
                    throw new CheckpointException(path,
                        $"tensor '{entry.Name}' has no place in the parameter table (the file has more layers than the config?)");
            }
        }

        var notInFile = new List<string>();
        for (int i = 0; i < parameters.Specs.Count; i++)
        {
            var spec = parameters.Specs[i];
            if (!index.TryGetValue(spec.Name, out var entry))
            {
                if (Gpt2Names.IsHead(spec.Name)) { notInFile.Add(spec.Name); continue; }
                throw new CheckpointException(path, $"missing tensor '{Gpt2Names.ToFile(spec.Name)}' (expected shape {ShapeText(FileShape(spec))})");
            }
            long[] expected = FileShape(spec);
            if (!entry.Shape.SequenceEqual(expected))
                throw new CheckpointException(path,
                    $"tensor '{entry.Name}' has shape {entry.ShapeText}, expected {ShapeText(expected)}{(GptParameters.IsConv1DWeight(spec.Name) ? " (Conv1D [in, out])" : "")}");
            float[] values = file.ReadFloat32(entry.Name);
            if (GptParameters.IsConv1DWeight(spec.Name)) values = Transpose(values, (int)expected[0], (int)expected[1]);
            backend.Upload<float>(parameters.Tensors[i], values);
        }

        if (index.TryGetValue(Gpt2Names.LmHead, out var lmHead))
        {
            CheckTied(file, index, lmHead);
            ignored.Add(lmHead.Name);
        }
        return new GptLoadResult(notInFile, ignored);
    }

    /// <summary>
    /// Writes <paramref name="parameters"/> (laid out by <see cref="GptParameters.Table"/> for
    /// <paramref name="config"/> and <paramref name="heads"/>) in Hugging Face layout: trunk names prefixed
    /// <c>transformer.</c>, Conv1D weights <c>[in, out]</c>, no <c>lm_head</c> (tied). The metadata gets
    /// <c>format=pt</c> (transformers requires it) and our config; the write is atomic.
    /// </summary>
    public static void Save(string path, GptConfig config, ModelHeads heads, TensorArena parameters,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var table = GptParameters.Table(config, heads);
        if (table.Count != parameters.Specs.Count
            || table.Zip(parameters.Specs).Any(p => p.First.Name != p.Second.Name || !p.First.Shape.SequenceEqual(p.Second.Shape)))
            throw new ArgumentException($"the parameter arena is not laid out by GptParameters.Table({config}, {heads})", nameof(parameters));

        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        if (metadata != null) foreach (var (k, v) in metadata) meta[k] = v;
        meta["format"] = "pt";
        meta[ConfigKey] = JsonSerializer.Serialize(config);
        meta[HeadsKey] = heads.ToString();

        var backend = parameters.Backend;
        var tensors = new List<SafetensorsTensor>(table.Count);
        for (int i = 0; i < table.Count; i++)
        {
            var spec = table[i];
            var tensor = parameters.Tensors[i];
            tensors.Add(new SafetensorsTensor(Gpt2Names.ToFile(spec.Name), SafetensorsDType.F32, FileShape(spec), s =>
            {
                var values = new float[tensor.Length];
                backend.Download<float>(tensor, values);
                if (GptParameters.IsConv1DWeight(spec.Name)) values = Transpose(values, spec.Shape[0], spec.Shape[1]);
                s.Write(MemoryMarshal.AsBytes(values.AsSpan()));
            }));
        }
        SafetensorsWriter.Write(path, tensors, meta);
    }

    /// <summary>
    /// Writes a Hugging Face <c>config.json</c> for <paramref name="config"/>, so the folder holding it and a
    /// saved <c>model.safetensors</c> loads with <c>GPT2LMHeadModel.from_pretrained</c>.
    /// </summary>
    public static void WriteHfConfig(string path, GptConfig config)
    {
        var hf = new Dictionary<string, object>
        {
            ["architectures"] = new[] { "GPT2LMHeadModel" },
            ["model_type"] = "gpt2",
            ["vocab_size"] = config.VocabSize,
            ["n_positions"] = config.MaxSeqLen,
            ["n_ctx"] = config.MaxSeqLen,
            ["n_embd"] = config.Channels,
            ["n_layer"] = config.NumLayers,
            ["n_head"] = config.NumHeads,
            // Our GELU is the tanh approximation, which transformers calls gelu_new.
            ["activation_function"] = "gelu_new",
            ["layer_norm_epsilon"] = 1e-5,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
        };
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(hf, new JsonSerializerOptions { WriteIndented = true });
        AtomicFile.Write(path, fs => fs.Write(json));
    }

    /// <summary>File tensors by name without the <c>transformer.</c> prefix; a name present both ways is an error.</summary>
    private static Dictionary<string, SafetensorsEntry> Index(SafetensorsFile file)
    {
        var index = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        foreach (var e in file.Entries)
            if (!index.TryAdd(Gpt2Names.Strip(e.Name), e))
                throw new CheckpointException(file.Path, $"tensor '{Gpt2Names.Strip(e.Name)}' appears both with and without the '{Gpt2Names.TrunkPrefix}' prefix");
        return index;
    }

    private static GptConfig InferConfig(SafetensorsFile file, Dictionary<string, SafetensorsEntry> index)
    {
        string path = file.Path;
        var wte = Require2D(path, index, "wte.weight");
        var wpe = Require2D(path, index, "wpe.weight");
        if (wpe.Shape[1] != wte.Shape[1])
            throw new CheckpointException(path, $"wpe.weight has width {wpe.Shape[1]} but wte.weight has {wte.Shape[1]}");
        int layers = 0;
        foreach (var name in index.Keys)
            if (Gpt2Names.Classify(name, out int layer) == Gpt2NameKind.Trunk && layer >= 0) layers = Math.Max(layers, layer + 1);
        if (layers == 0) throw new CheckpointException(path, "no transformer blocks (h.0.*) found");
        int vocab = (int)wte.Shape[0], channels = (int)wte.Shape[1], positions = (int)wpe.Shape[0];

        if (file.Metadata.TryGetValue(ConfigKey, out var json))
        {
            GptConfig? stored;
            try { stored = JsonSerializer.Deserialize<GptConfig>(json); }
            catch (JsonException e) { throw new CheckpointException(path, $"metadata '{ConfigKey}' is not a GptConfig: {e.Message}", e); }
            if (stored == null || stored != new GptConfig(vocab, positions, layers, stored.NumHeads, channels))
                throw new CheckpointException(path, $"metadata '{ConfigKey}' ({stored}) disagrees with the tensor shapes (vocab {vocab}, positions {positions}, layers {layers}, width {channels})");
            return Validated(path, stored);
        }

        string configJson = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, "config.json");
        if (!File.Exists(configJson))
            throw new CheckpointException(path,
                $"cannot determine the number of attention heads: the file has no '{ConfigKey}' metadata and there is no config.json beside it; put the model's Hugging Face config.json (with n_head) in the same folder");
        int heads = ReadHfHeads(configJson, vocab, positions, layers, channels);
        return Validated(path, new GptConfig(vocab, positions, layers, heads, channels));
    }

    /// <summary>n_head from a Hugging Face config.json, cross-checking the sizes it also states.</summary>
    private static int ReadHfHeads(string configJson, int vocab, int positions, int layers, int channels)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(configJson)); }
        catch (JsonException e) { throw new CheckpointException(configJson, $"not valid JSON: {e.Message}", e); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(configJson, "must be a JSON object");
            foreach (var (field, actual) in new[] { ("vocab_size", vocab), ("n_positions", positions), ("n_layer", layers), ("n_embd", channels) })
                if (root.TryGetProperty(field, out var v) && (!v.TryGetInt32(out int stated) || stated != actual))
                    throw new CheckpointException(configJson, $"field '{field}' is {v.GetRawText()} but the checkpoint's tensors say {actual}");
            if (!root.TryGetProperty("n_head", out var nh) || nh.ValueKind != JsonValueKind.Number || !nh.TryGetInt32(out int heads) || heads < 1)
                throw new CheckpointException(configJson, "field 'n_head' (a positive integer) is required to know the number of attention heads");
            return heads;
        }
    }

    private static GptConfig Validated(string path, GptConfig config)
    {
        try { return config.Validate(); }
        catch (ArgumentException e) { throw new CheckpointException(path, e.Message, e); }
    }

    private static SafetensorsEntry Require2D(string path, Dictionary<string, SafetensorsEntry> index, string name)
    {
        if (!index.TryGetValue(name, out var e)) throw new CheckpointException(path, $"missing tensor '{Gpt2Names.TrunkPrefix}{name}'");
        if (e.Shape.Length != 2 || e.Shape[0] < 1 || e.Shape[1] < 1 || e.Shape[0] > int.MaxValue || e.Shape[1] > int.MaxValue)
            throw new CheckpointException(path, $"tensor '{e.Name}' has shape {e.ShapeText}, expected two positive dimensions");
        return e;
    }

    /// <summary>A tied lm_head must hold exactly wte's values; an untied one would be silently dropped otherwise.</summary>
    private static void CheckTied(SafetensorsFile file, Dictionary<string, SafetensorsEntry> index, SafetensorsEntry lmHead)
    {
        var wte = index["wte.weight"];
        if (!lmHead.Shape.SequenceEqual(wte.Shape))
            throw new CheckpointException(file.Path, $"tensor '{lmHead.Name}' has shape {lmHead.ShapeText}, expected {wte.ShapeText} (tied to wte)");
        var a = file.ReadFloat32(lmHead.Name);
        var b = file.ReadFloat32(wte.Name);
        if (!MemoryMarshal.AsBytes(a.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(b.AsSpan())))
            throw new CheckpointException(file.Path, $"tensor '{lmHead.Name}' differs from '{wte.Name}'; only tied output embeddings are supported");
    }

    /// <summary>The shape a parameter has in a Hugging Face file: Conv1D weights are stored <c>[in, out]</c>.</summary>
    private static long[] FileShape(TensorSpec spec) =>
        GptParameters.IsConv1DWeight(spec.Name) ? [spec.Shape[1], spec.Shape[0]] : spec.Shape.Select(d => (long)d).ToArray();

    /// <summary>Row-major [rows, cols] to [cols, rows].</summary>
    private static float[] Transpose(float[] src, int rows, int cols)
    {
        var dst = new float[src.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                dst[c * rows + r] = src[r * cols + c];
        return dst;
    }

    private static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
