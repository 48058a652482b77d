namespace RlhfCore.Model;

/// <summary>GPT-2 architecture hyperparameters.</summary>
/// <param name="VocabSize">Number of token ids.</param>
/// <param name="MaxSeqLen">Context length (number of learned positions).</param>
/// <param name="NumLayers">Transformer blocks.</param>
/// <param name="NumHeads">Attention heads per block.</param>
/// <param name="Channels">Model width; must be divisible by <paramref name="NumHeads"/>.</param>
public sealed record GptConfig(int VocabSize, int MaxSeqLen, int NumLayers, int NumHeads, int Channels)
{
    /// <summary>Per-head width.</summary>
    public int HeadSize => Channels / NumHeads;

    /// <summary>Throws with the offending field named when the config is unusable.</summary>
    public GptConfig Validate()
    {
        if (VocabSize < 1) throw new ArgumentException($"GptConfig.VocabSize must be positive, got {VocabSize}");
        if (MaxSeqLen < 1) throw new ArgumentException($"GptConfig.MaxSeqLen must be positive, got {MaxSeqLen}");
        if (NumLayers < 1) throw new ArgumentException($"GptConfig.NumLayers must be positive, got {NumLayers}");
        if (NumHeads < 1) throw new ArgumentException($"GptConfig.NumHeads must be positive, got {NumHeads}");
        if (Channels < 1 || Channels % NumHeads != 0)
            throw new ArgumentException($"GptConfig.Channels ({Channels}) must be a positive multiple of NumHeads ({NumHeads})");
        return this;
    }

    /// <summary>The named presets: GPT-2's four sizes and small models for CPU work.</summary>
    public static IReadOnlyDictionary<string, GptConfig> Presets { get; } = new Dictionary<string, GptConfig>
    {
        ["gpt2-124m"] = new(50257, 1024, 12, 12, 768),
        ["gpt2-350m"] = new(50257, 1024, 24, 16, 1024),
        ["gpt2-774m"] = new(50257, 1024, 36, 20, 1280),
        ["gpt2-1558m"] = new(50257, 1024, 48, 25, 1600),
        // Byte-level vocabulary (256 bytes + 4 specials) for models trained here from scratch. Heads are
        // 64 wide, as in every GPT-2, so the CUDA backend's fused attention runs them too.
        ["byte-tiny"] = new(260, 128, 2, 1, 64),
        ["byte-small"] = new(260, 256, 4, 2, 128),
        ["byte-medium"] = new(260, 512, 6, 6, 384),
    };

    /// <summary>The preset named <paramref name="name"/>, or an error listing the names.</summary>
    public static GptConfig Preset(string name) =>
        Presets.TryGetValue(name, out var c) ? c
        : throw new ArgumentException($"unknown model config '{name}'; presets: {string.Join(", ", Presets.Keys)}");
}
