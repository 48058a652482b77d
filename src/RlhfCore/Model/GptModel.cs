using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Model;

/// <summary>Which head gradients a backward pass starts from (each written by the loss beforehand).</summary>
/// <param name="Logits">dlogits, in place in <see cref="GptActivations.Logits"/>.</param>
/// <param name="Values">dvalues in <see cref="GptActivations.DValues"/>.</param>
/// <param name="Rewards">drewards in <see cref="GptActivations.DRewards"/>.</param>
/// <param name="Hidden">
/// An extra gradient [B·T, C] with respect to the final LayerNorm's output <see cref="GptActivations.Lnf"/>, added to the
/// heads' (for heads that live outside the model and read the trunk's hidden states: ILQL's Q and V heads); None for none.
/// </param>
public readonly record struct BackwardSources(bool Logits, bool Values = false, bool Rewards = false, Tensor Hidden = default);

/// <summary>
/// The GPT-2 architecture exactly: learned token and position embeddings; pre-LayerNorm blocks of
/// causal multi-head attention and a GELU-tanh MLP on a residual stream; a final LayerNorm; an LM head
/// tied to the token embedding; optional value head (one scalar per token) and reward head (one scalar
/// per sequence at its last real token). Parameters and their gradients live in two arenas laid out
/// from <see cref="GptParameters.Table"/>. Forward and backward are explicit kernel sequences.
/// </summary>
public sealed class GptModel : IDisposable
{
    /// <summary>Architecture.</summary>
    public GptConfig Config { get; }
    /// <summary>Heads on the trunk besides the LM head.</summary>
    public ModelHeads Heads { get; }
    /// <summary>Backend that owns the parameters and runs the kernels.</summary>
    public IBackend Backend { get; }
    /// <summary>The parameter table.</summary>
    public IReadOnlyList<TensorSpec> Table { get; }
    /// <summary>Parameters.</summary>
    public TensorArena Parameters { get; }
    /// <summary>Parameter gradients (accumulated by backward; zero them with <see cref="ZeroGradients"/>).</summary>
    public TensorArena Gradients { get; }

    private readonly LayerWeights[] _layers;
    private readonly LayerWeights[] _layerGrads;

    /// <summary>Creates a model with zeroed parameters; call <see cref="InitializeWeights"/> or load a checkpoint.</summary>
    public GptModel(IBackend backend, GptConfig config, ModelHeads heads = ModelHeads.None)
    {
        Backend = backend;
        Config = config.Validate();
        Heads = heads;
        Table = GptParameters.Table(config, heads);
        Parameters = new TensorArena(backend, Table);
        Gradients = new TensorArena(backend, Table);
        _layers = new LayerWeights[config.NumLayers];
        _layerGrads = new LayerWeights[config.NumLayers];
        for (int l = 0; l < config.NumLayers; l++)
        {
            _layers[l] = LayerWeights.From(Parameters, l);
            _layerGrads[l] = LayerWeights.From(Gradients, l);
        }
    }

    /// <summary>Number of parameters.</summary>
    public long ParameterCount => GptParameters.Count(Table);

    /// <summary>
    /// GPT-2's initialization: weights N(0, 0.02), the two residual projections of each block scaled by
    /// 1/√(2·layers), biases 0, LayerNorm gains 1; heads N(0, 0.02) with zero bias. Deterministic in <paramref name="seed"/>.
    /// </summary>
    public void InitializeWeights(ulong seed)
    {
        var rng = new Rng(seed);
        double residualStd = 0.02 / Math.Sqrt(2.0 * Config.NumLayers);
        for (int i = 0; i < Table.Count; i++)
        {
            var spec = Table[i];
            var data = new float[spec.Length];
            if (spec.Name.EndsWith("ln_1.weight") || spec.Name.EndsWith("ln_2.weight") || spec.Name == "ln_f.weight")
                Array.Fill(data, 1f);
            else if (spec.Shape.Length == 2)
            {
                double std = spec.Name.EndsWith(".c_proj.weight") ? residualStd : 0.02;
                for (long j = 0; j < data.Length; j++) data[j] = (float)(rng.NextGaussian() * std);
            }
            Backend.Upload<float>(Parameters.Tensors[i], data);
        }
    }

    /// <summary>Sets every parameter gradient to zero (once per optimizer step, before the micro-batches).</summary>
    public void ZeroGradients() => Backend.Zero(Gradients.All);

    /// <summary>
    /// Runs the trunk and heads over the <c>[B, T]</c> batch already uploaded into <paramref name="a"/>
    /// (tokens, positions, key mask; last rows when there is a reward head). <paramref name="computeLogits"/>
    /// runs the tied LM head, a [B·T, V] matmul that reward models skip.
    /// </summary>
    public void Forward(GptActivations a, int B, int T, bool computeLogits = true)
    {
        CheckShape(a, B, T);
        var be = Backend;
        int C = Config.Channels, NH = Config.NumHeads, N = B * T;
        be.EmbeddingForward(a.Encoded, a.Tokens, a.Positions, Parameters["wte.weight"], Parameters["wpe.weight"], N, C);
        Tensor residual = a.Encoded;
        for (int l = 0; l < Config.NumLayers; l++)
        {
            var w = _layers[l];
            var s = a.Layers[l];
            be.LayerNormForward(s.Ln1, s.Ln1Mean, s.Ln1Rstd, residual, w.Ln1W, w.Ln1B, N, C);
            be.MatmulForward(s.Qkv, s.Ln1, w.QkvW, w.QkvB, N, C, 3 * C);
            be.AttentionForward(s.AttY, s.Att, s.Qkv, a.KeyMask, B, T, C, NH);
            be.MatmulForward(s.AttProj, s.AttY, w.AttProjW, w.AttProjB, N, C, C);
            be.ResidualForward(s.Residual2, residual, s.AttProj, (long)N * C);
            be.LayerNormForward(s.Ln2, s.Ln2Mean, s.Ln2Rstd, s.Residual2, w.Ln2W, w.Ln2B, N, C);
            be.MatmulForward(s.Fch, s.Ln2, w.FcW, w.FcB, N, C, 4 * C);
            be.GeluForward(s.FchGelu, s.Fch, (long)N * 4 * C);
            be.MatmulForward(s.FcProj, s.FchGelu, w.FcProjW, w.FcProjB, N, 4 * C, C);
            be.ResidualForward(s.Residual3, s.Residual2, s.FcProj, (long)N * C);
            residual = s.Residual3;
        }
        be.LayerNormForward(a.Lnf, a.LnfMean, a.LnfRstd, residual, Parameters["ln_f.weight"], Parameters["ln_f.bias"], N, C);
        if (computeLogits)
            be.MatmulForward(Rows(a.Logits, N, Config.VocabSize), a.Lnf, Parameters["wte.weight"], Tensor.None, N, C, Config.VocabSize);
        // Bit tests, not HasFlag: unoptimized (tier-0) code boxes HasFlag's operands, and a step must not allocate.
        if ((Heads & ModelHeads.Value) != 0)
            be.MatmulForward(Rows(a.Values, N, 1), a.Lnf, Parameters[GptParameters.ValueWeight], Parameters[GptParameters.ValueBias], N, C, 1);
        if ((Heads & ModelHeads.Reward) != 0)
        {
            be.GatherRowsForward(Rows(a.RewardHidden, B, C), a.Lnf, a.LastRows, B, C);
            be.MatmulForward(Rows(a.Rewards, B, 1), Rows(a.RewardHidden, B, C), Parameters[GptParameters.RewardWeight], Tensor.None, B, C, 1);
        }
    }

    /// <summary>
    /// Backpropagates from the head gradients named in <paramref name="sources"/> (already written by the
    /// loss) through the whole model, accumulating (+=) into <see cref="Gradients"/>.
    /// </summary>
    public void Backward(GptActivations a, int B, int T, BackwardSources sources)
    {
        CheckShape(a, B, T);
        if (!sources.Logits && !sources.Values && !sources.Rewards && sources.Hidden.IsNone) throw new ArgumentException("backward needs at least one head gradient");
        if (sources.Values && (Heads & ModelHeads.Value) == 0) throw new InvalidOperationException("the model has no value head");
        if (sources.Rewards && (Heads & ModelHeads.Reward) == 0) throw new InvalidOperationException("the model has no reward head");
        var be = Backend;
        int C = Config.Channels, NH = Config.NumHeads, N = B * T, V = Config.VocabSize;

        // Heads: the gradient with respect to lnf is the sum over heads; the first head overwrites DLn.
        bool dlnWritten = false;
        if (sources.Logits)
        {
            be.MatmulBackward(a.DLn, Gradients["wte.weight"], Tensor.None, Rows(a.Logits, N, V), a.Lnf, Parameters["wte.weight"], N, C, V);
            dlnWritten = true;
        }
        if (sources.Values)
        {
            be.MatmulBackward(a.DLn, Gradients[GptParameters.ValueWeight], Gradients[GptParameters.ValueBias], Rows(a.DValues, N, 1),
                a.Lnf, Parameters[GptParameters.ValueWeight], N, C, 1, accumulateDinp: dlnWritten);
            dlnWritten = true;
        }
        if (!sources.Hidden.IsNone)
        {
            if (sources.Hidden.Length != (long)N * C)
                throw new ArgumentException($"the hidden-state gradient has {sources.Hidden.Length} values; the trunk's output has {N}×{C}");
            if (dlnWritten) be.LinearCombination(a.DLn, a.DLn, sources.Hidden, 1f, 1f, (long)N * C);
            else be.Copy(Rows(a.DLn, N, C), Rows(sources.Hidden, N, C));
            dlnWritten = true;
        }
        if (sources.Rewards)
        {
            if (!dlnWritten) be.Zero(a.DLn);
            be.MatmulBackward(Rows(a.DRewardHidden, B, C), Gradients[GptParameters.RewardWeight], Tensor.None, Rows(a.DRewards, B, 1),
                Rows(a.RewardHidden, B, C), Parameters[GptParameters.RewardWeight], B, C, 1);
            be.GatherRowsBackward(a.DLn, Rows(a.DRewardHidden, B, C), a.LastRows, B, C);
        }

        // The residual stream's gradient flows through DResidual: each LayerNorm backward adds its branch
        // into it (+=), which is the residual add's backward for the skip connection around that branch.
        be.Zero(Rows(a.DResidual, N, C));
        Tensor lastResidual = Config.NumLayers > 0 ? a.Layers[^1].Residual3 : a.Encoded;
        be.LayerNormBackward(a.DResidual, Gradients["ln_f.weight"], Gradients["ln_f.bias"], a.DLn, lastResidual,
            Parameters["ln_f.weight"], a.LnfMean, a.LnfRstd, N, C);
        for (int l = Config.NumLayers - 1; l >= 0; l--)
        {
            var w = _layers[l];
            var g = _layerGrads[l];
            var s = a.Layers[l];
            Tensor residual = l == 0 ? a.Encoded : a.Layers[l - 1].Residual3;
            // MLP branch: residual3 = residual2 + fcproj(gelu(fc(ln2(residual2))))
            be.MatmulBackward(a.DFchGelu, g.FcProjW, g.FcProjB, a.DResidual, s.FchGelu, w.FcProjW, N, 4 * C, C);
            be.GeluBackward(a.DFch, s.Fch, a.DFchGelu, (long)N * 4 * C);
            be.MatmulBackward(a.DLn, g.FcW, g.FcB, a.DFch, s.Ln2, w.FcW, N, C, 4 * C);
            be.LayerNormBackward(a.DResidual, g.Ln2W, g.Ln2B, a.DLn, s.Residual2, w.Ln2W, s.Ln2Mean, s.Ln2Rstd, N, C);
            // attention branch: residual2 = residual + attproj(attention(qkv(ln1(residual))))
            be.MatmulBackward(a.DAttY, g.AttProjW, g.AttProjB, a.DResidual, s.AttY, w.AttProjW, N, C, C);
            be.AttentionBackward(a.DQkv, a.DAtt, a.DAttY, s.Qkv, s.Att, B, T, C, NH);
            be.MatmulBackward(a.DLn, g.QkvW, g.QkvB, a.DQkv, s.Ln1, w.QkvW, N, C, 3 * C);
            be.LayerNormBackward(a.DResidual, g.Ln1W, g.Ln1B, a.DLn, residual, w.Ln1W, s.Ln1Mean, s.Ln1Rstd, N, C);
        }
        be.EmbeddingBackward(Gradients["wte.weight"], Gradients["wpe.weight"], a.DResidual, a.Tokens, a.Positions, N, C);
    }

    private static void CheckShape(GptActivations a, int B, int T)
    {
        if (T != a.T || B < 1 || B > a.B)
            throw new ArgumentException($"batch [{B}, {T}] does not fit activations laid out for [{a.B}, {a.T}] (rows may be fewer, the length must match)");
    }

    /// <summary>The first <paramref name="rows"/>·<paramref name="cols"/> elements of <paramref name="t"/> as [rows, cols].</summary>
    /// <remarks>A full batch gets the tensor itself, so a training step allocates no shape arrays.</remarks>
    internal static Tensor Rows(Tensor t, int rows, int cols) =>
        t.Rank == 2 && t.Shape[0] == rows && t.Shape[1] == cols ? t : t.Slice(0, (long)rows * cols, [rows, cols]);

    /// <inheritdoc/>
    public void Dispose()
    {
        Parameters.Dispose();
        Gradients.Dispose();
    }

    /// <summary>One block's parameter tensors (or their gradients), looked up once by name.</summary>
    private readonly record struct LayerWeights(
        Tensor Ln1W, Tensor Ln1B, Tensor QkvW, Tensor QkvB, Tensor AttProjW, Tensor AttProjB,
        Tensor Ln2W, Tensor Ln2B, Tensor FcW, Tensor FcB, Tensor FcProjW, Tensor FcProjB)
    {
        public static LayerWeights From(TensorArena arena, int layer)
        {
            string p = GptParameters.Layer(layer);
            return new(arena[p + "ln_1.weight"], arena[p + "ln_1.bias"], arena[p + "attn.c_attn.weight"], arena[p + "attn.c_attn.bias"],
                arena[p + "attn.c_proj.weight"], arena[p + "attn.c_proj.bias"], arena[p + "ln_2.weight"], arena[p + "ln_2.bias"],
                arena[p + "mlp.c_fc.weight"], arena[p + "mlp.c_fc.bias"], arena[p + "mlp.c_proj.weight"], arena[p + "mlp.c_proj.bias"]);
        }
    }
}
