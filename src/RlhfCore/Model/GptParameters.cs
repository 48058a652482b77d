using RlhfCore.Tensors;

namespace RlhfCore.Model;

/// <summary>
/// The parameter table: one row per tensor, named as Hugging Face GPT-2 names them (without the
/// <c>transformer.</c> prefix), so checkpoint import and export is a name map. Matmul weights are stored
/// <c>[out, in]</c>; Hugging Face's Conv1D stores them <c>[in, out]</c> (see <see cref="IsConv1DWeight"/>).
/// </summary>
public static class GptParameters
{
    /// <summary>Name of the value-head weight <c>[1, C]</c>.</summary>
    public const string ValueWeight = "v_head.summary.weight";
    /// <summary>Name of the value-head bias <c>[1]</c>.</summary>
    public const string ValueBias = "v_head.summary.bias";
    /// <summary>Name of the reward-head weight <c>[1, C]</c>.</summary>
    public const string RewardWeight = "score.weight";

    /// <summary>Prefix of layer <paramref name="layer"/>'s tensors.</summary>
    public static string Layer(int layer) => $"h.{layer}.";

    /// <summary>The table for <paramref name="config"/> with <paramref name="heads"/>.</summary>
    public static IReadOnlyList<TensorSpec> Table(GptConfig config, ModelHeads heads = ModelHeads.None)
    {
        config.Validate();
        int V = config.VocabSize, C = config.Channels, T = config.MaxSeqLen;
        var specs = new List<TensorSpec>
        {
            new("wte.weight", DType.F32, [V, C]),
            new("wpe.weight", DType.F32, [T, C]),
        };
        for (int l = 0; l < config.NumLayers; l++)
        {
            string p = Layer(l);
            specs.Add(new(p + "ln_1.weight", DType.F32, [C]));
            specs.Add(new(p + "ln_1.bias", DType.F32, [C]));
            specs.Add(new(p + "attn.c_attn.weight", DType.F32, [3 * C, C]));
            specs.Add(new(p + "attn.c_attn.bias", DType.F32, [3 * C]));
            specs.Add(new(p + "attn.c_proj.weight", DType.F32, [C, C]));
            specs.Add(new(p + "attn.c_proj.bias", DType.F32, [C]));
            specs.Add(new(p + "ln_2.weight", DType.F32, [C]));
            specs.Add(new(p + "ln_2.bias", DType.F32, [C]));
            specs.Add(new(p + "mlp.c_fc.weight", DType.F32, [4 * C, C]));
            specs.Add(new(p + "mlp.c_fc.bias", DType.F32, [4 * C]));
            specs.Add(new(p + "mlp.c_proj.weight", DType.F32, [C, 4 * C]));
            specs.Add(new(p + "mlp.c_proj.bias", DType.F32, [C]));
        }
        specs.Add(new("ln_f.weight", DType.F32, [C]));
        specs.Add(new("ln_f.bias", DType.F32, [C]));
        if (heads.HasFlag(ModelHeads.Value))
        {
            specs.Add(new(ValueWeight, DType.F32, [1, C]));
            specs.Add(new(ValueBias, DType.F32, [1]));
        }
        if (heads.HasFlag(ModelHeads.Reward))
            specs.Add(new(RewardWeight, DType.F32, [1, C]));
        return specs;
    }

    /// <summary>True for weights Hugging Face stores transposed (Conv1D, <c>[in, out]</c>).</summary>
    public static bool IsConv1DWeight(string name) =>
        name.EndsWith(".c_attn.weight", StringComparison.Ordinal) || name.EndsWith(".c_proj.weight", StringComparison.Ordinal)
        || name.EndsWith(".c_fc.weight", StringComparison.Ordinal);

    /// <summary>AdamW decays 2-D weights only (matmul weights and embeddings), never biases or LayerNorm gains.</summary>
    public static bool IsDecayed(TensorSpec spec) => spec.Shape.Length == 2;

    /// <summary>Total parameter count of the table.</summary>
    public static long Count(IReadOnlyList<TensorSpec> table) => table.Sum(s => s.Length);
}
