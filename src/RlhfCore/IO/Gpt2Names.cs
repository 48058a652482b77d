using System.Text.RegularExpressions;
using RlhfCore.Model;

namespace RlhfCore.IO;

/// <summary>What a tensor name in a Hugging Face GPT-2 file is, once the optional prefix is stripped.</summary>
internal enum Gpt2NameKind
{
    /// <summary>A trunk parameter of <see cref="GptParameters.Table"/>.</summary>
    Trunk,
    /// <summary>A value or reward head parameter.</summary>
    Head,
    /// <summary><c>lm_head.weight</c>: must be tied to (equal to) <c>wte.weight</c>.</summary>
    LmHead,
    /// <summary>The causal-mask buffers (<c>attn.bias</c>, <c>attn.masked_bias</c>) older exports contain.</summary>
    MaskBuffer,
    /// <summary>Anything else.</summary>
    Unknown,
}

/// <summary>The map between Hugging Face GPT-2 tensor names and the parameter table's names.</summary>
internal static partial class Gpt2Names
{
    /// <summary>Prefix GPT2LMHeadModel puts on trunk tensors.</summary>
    public const string TrunkPrefix = "transformer.";

    /// <summary>Name of the (tied) output embedding.</summary>
    public const string LmHead = "lm_head.weight";

    private static readonly HashSet<string> LayerSuffixes = new(StringComparer.Ordinal)
    {
        "ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
        "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias",
    };

    [GeneratedRegex(@"^h\.(0|[1-9][0-9]{0,5})\.(.+)$")]
    private static partial Regex LayerName();

    /// <summary>The name without the <c>transformer.</c> prefix.</summary>
    public static string Strip(string fileName) =>
        fileName.StartsWith(TrunkPrefix, StringComparison.Ordinal) ? fileName[TrunkPrefix.Length..] : fileName;

    /// <summary>True for the heads, which Hugging Face and TRL keep outside <c>transformer.</c>.</summary>
    public static bool IsHead(string name) =>
        name is GptParameters.ValueWeight or GptParameters.ValueBias or GptParameters.RewardWeight;

    /// <summary>The name to write for parameter <paramref name="name"/> in Hugging Face layout.</summary>
    public static string ToFile(string name) => IsHead(name) ? name : TrunkPrefix + name;

    /// <summary>Classifies a stripped name; <paramref name="layer"/> is its block index, or -1.</summary>
    public static Gpt2NameKind Classify(string name, out int layer)
    {
        layer = -1;
        if (IsHead(name)) return Gpt2NameKind.Head;
        if (name == LmHead) return Gpt2NameKind.LmHead;
        if (name is "wte.weight" or "wpe.weight" or "ln_f.weight" or "ln_f.bias") return Gpt2NameKind.Trunk;
        var m = LayerName().Match(name);
        if (!m.Success) return Gpt2NameKind.Unknown;
        layer = int.Parse(m.Groups[1].Value);
        string suffix = m.Groups[2].Value;
        if (LayerSuffixes.Contains(suffix)) return Gpt2NameKind.Trunk;
        return suffix is "attn.bias" or "attn.masked_bias" ? Gpt2NameKind.MaskBuffer : Gpt2NameKind.Unknown;
    }
}
