using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Model;

/// <summary>
/// Everything a forward and backward pass over a <c>[B, T]</c> batch reads and writes: the inputs
/// (tokens, positions, key mask, targets, loss weights, last-token rows), the activations saved for
/// backward, and the activation-gradient buffers. Laid out from one <c>(name, shape)</c> table in one
/// arena, allocated once for a capacity and reused every step, so a step allocates nothing.
/// </summary>
public sealed class GptActivations : IDisposable
{
    private readonly TensorArena _arena;

    /// <summary>Batch rows this arena was laid out for.</summary>
    public int B { get; }
    /// <summary>Sequence length this arena was laid out for.</summary>
    public int T { get; }

    /// <summary>[B·T] input token ids (uploaded by the caller).</summary>
    public Tensor Tokens => _arena["in.tokens"];
    /// <summary>[B·T] position ids (uploaded by the caller).</summary>
    public Tensor Positions => _arena["in.positions"];
    /// <summary>[B·T] 1 for a real token, 0 for padding that attention must ignore (uploaded by the caller).</summary>
    public Tensor KeyMask => _arena["in.key_mask"];
    /// <summary>[B·T] next-token targets (uploaded by the caller).</summary>
    public Tensor Targets => _arena["in.targets"];
    /// <summary>[B·T] per-token weights of the loss (uploaded by the caller).</summary>
    public Tensor LossWeights => _arena["in.loss_weights"];
    /// <summary>[B] the flat row index of each sequence's last real token, where the reward head reads (uploaded by the caller).</summary>
    public Tensor LastRows => _arena["in.last_rows"];

    /// <summary>[B·T, C] token plus position embeddings: the residual stream entering the first block.</summary>
    public Tensor Encoded => _arena["encoded"];
    /// <summary>[B·T, C] output of the final layer norm, which every head reads.</summary>
    public Tensor Lnf => _arena["lnf"];
    /// <summary>[B·T] the final layer norm's per-row mean, saved for backward.</summary>
    public Tensor LnfMean => _arena["lnf.mean"];
    /// <summary>[B·T] the final layer norm's per-row reciprocal standard deviation, saved for backward.</summary>
    public Tensor LnfRstd => _arena["lnf.rstd"];
    /// <summary>[B·T, V] logits; the fused classifier overwrites them with dlogits in place.</summary>
    public Tensor Logits => _arena["logits"];
    /// <summary>[B·T] per-token cross-entropy (or any per-token loss a trainer writes).</summary>
    public Tensor Losses => _arena["losses"];
    /// <summary>[B·T] value-head outputs.</summary>
    public Tensor Values => _arena["values"];
    /// <summary>[B·T] gradient of the loss with respect to <see cref="Values"/>.</summary>
    public Tensor DValues => _arena["values.grad"];
    /// <summary>[B, C] hidden state at each sequence's last real token.</summary>
    public Tensor RewardHidden => _arena["reward.hidden"];
    /// <summary>[B] reward-head scores.</summary>
    public Tensor Rewards => _arena["rewards"];
    /// <summary>[B] gradient of the loss with respect to <see cref="Rewards"/>.</summary>
    public Tensor DRewards => _arena["rewards.grad"];

    // Gradient scratch shared by all layers: the backward pass streams through them.
    /// <summary>[B·T, C] gradient of the residual stream, carried from block to block in backward.</summary>
    public Tensor DResidual => _arena["grad.residual"];
    /// <summary>[B·T, C] gradient of a layer norm's output (scratch shared by all blocks).</summary>
    public Tensor DLn => _arena["grad.ln"];
    /// <summary>[B·T, C] gradient of attention's output (scratch shared by all blocks).</summary>
    public Tensor DAttY => _arena["grad.atty"];
    /// <summary>[B·T, 3C] gradient of the fused query/key/value projection (scratch shared by all blocks).</summary>
    public Tensor DQkv => _arena["grad.qkv"];
    /// <summary>attention's backward scratch, sized by the backend (shared by all blocks).</summary>
    public Tensor DAtt => _arena["grad.att"];
    /// <summary>[B·T, 4C] gradient of the MLP's first projection (scratch shared by all blocks).</summary>
    public Tensor DFch => _arena["grad.fch"];
    /// <summary>[B·T, 4C] gradient of the MLP's GELU output (scratch shared by all blocks).</summary>
    public Tensor DFchGelu => _arena["grad.fch_gelu"];
    /// <summary>[B, C] gradient of the hidden state the reward head reads.</summary>
    public Tensor DRewardHidden => _arena["grad.reward.hidden"];

    /// <summary>Saved activations of one transformer block.</summary>
    public readonly record struct Layer(
        Tensor Ln1, Tensor Ln1Mean, Tensor Ln1Rstd, Tensor Qkv, Tensor AttY, Tensor Att, Tensor AttProj,
        Tensor Residual2, Tensor Ln2, Tensor Ln2Mean, Tensor Ln2Rstd, Tensor Fch, Tensor FchGelu, Tensor FcProj,
        Tensor Residual3);

    /// <summary>Per-block saved activations.</summary>
    public IReadOnlyList<Layer> Layers { get; }

    /// <summary>Lays out and allocates the arena for a <c>[B, T]</c> batch of <paramref name="config"/>.</summary>
    public GptActivations(IBackend backend, GptConfig config, int B, int T)
    {
        if (B < 1) throw new ArgumentOutOfRangeException(nameof(B), B, "batch size must be positive");
        if (T < 1 || T > config.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(T), T, $"sequence length must be in [1, {config.MaxSeqLen}] (the model's context)");
        this.B = B;
        this.T = T;
        ArenaBudget.Check($"activations for {B:N0} rows × {T:N0} tokens", backend, rows => Table(backend, config, rows, T), B,
            "lower the batch size (--batch) or the sequence length (--seq-len)");
        _arena = new TensorArena(backend, Table(backend, config, B, T));
        var layers = new Layer[config.NumLayers];
        for (int l = 0; l < layers.Length; l++)
        {
            string p = $"h.{l}.";
            layers[l] = new Layer(_arena[p + "ln1"], _arena[p + "ln1.mean"], _arena[p + "ln1.rstd"], _arena[p + "qkv"],
                _arena[p + "atty"], _arena[p + "att"], _arena[p + "attproj"], _arena[p + "residual2"], _arena[p + "ln2"],
                _arena[p + "ln2.mean"], _arena[p + "ln2.rstd"], _arena[p + "fch"], _arena[p + "fch_gelu"],
                _arena[p + "fcproj"], _arena[p + "residual3"]);
        }
        Layers = layers;
    }

    /// <summary>The single layout table of inputs, activations and activation gradients.</summary>
    public static IReadOnlyList<TensorSpec> Table(IBackend backend, GptConfig config, int B, int T)
    {
        int C = config.Channels, NH = config.NumHeads, V = config.VocabSize, N = B * T;
        // What attention keeps between passes depends on the backend (probabilities on the CPU, far less fused).
        int saved = checked((int)backend.AttentionSavedFloats(B, T, C, NH)), scratch = checked((int)backend.AttentionScratchFloats(B, T, C, NH));
        var f = DType.F32;
        var specs = new List<TensorSpec>
        {
            new("in.tokens", DType.I32, [N]),
            new("in.positions", DType.I32, [N]),
            new("in.key_mask", DType.I32, [N]),
            new("in.targets", DType.I32, [N]),
            new("in.loss_weights", f, [N]),
            new("in.last_rows", DType.I32, [B]),
            new("encoded", f, [N, C]),
        };
        for (int l = 0; l < config.NumLayers; l++)
        {
            string p = $"h.{l}.";
            specs.AddRange([
                new(p + "ln1", f, [N, C]), new(p + "ln1.mean", f, [N]), new(p + "ln1.rstd", f, [N]),
                new(p + "qkv", f, [N, 3 * C]), new(p + "atty", f, [N, C]), new(p + "att", f, [saved]),
                new(p + "attproj", f, [N, C]), new(p + "residual2", f, [N, C]),
                new(p + "ln2", f, [N, C]), new(p + "ln2.mean", f, [N]), new(p + "ln2.rstd", f, [N]),
                new(p + "fch", f, [N, 4 * C]), new(p + "fch_gelu", f, [N, 4 * C]), new(p + "fcproj", f, [N, C]),
                new(p + "residual3", f, [N, C]),
            ]);
        }
        specs.AddRange([
            new("lnf", f, [N, C]), new("lnf.mean", f, [N]), new("lnf.rstd", f, [N]),
            new("logits", f, [N, V]), new("losses", f, [N]),
            new("values", f, [N, 1]), new("values.grad", f, [N, 1]),
            new("reward.hidden", f, [B, C]), new("rewards", f, [B, 1]), new("rewards.grad", f, [B, 1]),
            new("grad.residual", f, [N, C]), new("grad.ln", f, [N, C]), new("grad.atty", f, [N, C]),
            new("grad.qkv", f, [N, 3 * C]), new("grad.att", f, [scratch]),
            new("grad.fch", f, [N, 4 * C]), new("grad.fch_gelu", f, [N, 4 * C]),
            new("grad.reward.hidden", f, [B, C]),
        ]);
        return specs;
    }

    /// <inheritdoc/>
    public void Dispose() => _arena.Dispose();
}
