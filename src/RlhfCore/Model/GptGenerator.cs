using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Model;

/// <summary>
/// Batched sampling with a KV cache. Prompts are left-padded to a common length P so every row's last
/// prompt token sits at position P−1; pads are hidden by the key mask and positions count real tokens
/// only, so a padded row computes exactly what it would alone. The prompt is run once (prefill, writing
/// every layer's keys and values into the cache), then each new token costs one single-position pass.
/// Buffers are allocated once for (maxBatch, maxPrompt) and reused; random numbers come from the caller's
/// <see cref="Rng"/>, one per row per step, so results are reproducible and backend-independent.
/// </summary>
public sealed class GptGenerator : IDisposable
{
    private readonly GptModel _model;
    private readonly IBackend _be;
    private readonly TensorArena _arena;
    private readonly int _maxBatch, _maxPrompt, _maxT;

    /// <summary>Prepares caches for up to <paramref name="maxBatch"/> rows and prompts up to <paramref name="maxPrompt"/> tokens.</summary>
    public GptGenerator(GptModel model, int maxBatch, int maxPrompt)
    {
        _model = model;
        _be = model.Backend;
        var cfg = model.Config;
        if (maxBatch < 1) throw new ArgumentOutOfRangeException(nameof(maxBatch), maxBatch, "must be positive");
        if (maxPrompt < 1 || maxPrompt > cfg.MaxSeqLen)
            throw new ArgumentOutOfRangeException(nameof(maxPrompt), maxPrompt, $"prompt length must be in [1, {cfg.MaxSeqLen}] (the model's context)");
        _maxBatch = maxBatch;
        _maxPrompt = maxPrompt;
        _maxT = cfg.MaxSeqLen;
        ArenaBudget.Check($"the KV cache for {maxBatch:N0} rows of up to {cfg.MaxSeqLen:N0} tokens", _be, rows => Table(cfg, rows, maxPrompt), maxBatch,
            "generate fewer rows at once (--num-samples, the number of prompts, or --batch)");
        _arena = new TensorArena(_be, Table(cfg, maxBatch, maxPrompt));
    }

    private static List<TensorSpec> Table(GptConfig cfg, int B, int P)
    {
        int C = cfg.Channels, NH = cfg.NumHeads, hs = cfg.HeadSize, N = B * P;
        var f = DType.F32;
        var specs = new List<TensorSpec>
        {
            new("tokens", DType.I32, [N]), new("positions", DType.I32, [N]), new("key_mask", DType.I32, [B, cfg.MaxSeqLen]),
            new("last_rows", DType.I32, [B]), new("uniforms", f, [B]), new("sampled", DType.I32, [B]),
            new("x", f, [N, C]), new("ln", f, [N, C]), new("mean", f, [N]), new("rstd", f, [N]),
            new("qkv", f, [N, 3 * C]), new("atty", f, [N, C]), new("proj", f, [N, C]),
            new("fch", f, [N, 4 * C]), new("fch_gelu", f, [N, 4 * C]), new("last", f, [B, C]), new("logits", f, [B, cfg.VocabSize]),
        };
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            specs.Add(new($"k.{l}", f, [B, NH, cfg.MaxSeqLen, hs]));
            specs.Add(new($"v.{l}", f, [B, NH, cfg.MaxSeqLen, hs]));
        }
        return specs;
    }

    /// <summary>
    /// Samples continuations of <paramref name="prompts"/>. <paramref name="shaper"/>, when given, rewrites each step's logits
    /// from the rows' last hidden states before sampling (ILQL's decoding). <paramref name="onLogits"/>, when given, sees
    /// each step's [rows, V] logits on the device before sampling (tests compare them with a full forward).
    /// </summary>
    public GeneratedSequence[] Generate(IReadOnlyList<int[]> prompts, SamplingOptions options, Rng rng, Action<int, Tensor>? onLogits = null,
        ILogitsShaper? shaper = null)
    {
        options.Validate();
        var cfg = _model.Config;
        int B = prompts.Count;
        if (B < 1 || B > _maxBatch) throw new ArgumentException($"{B} prompts; this generator holds 1 to {_maxBatch}");
        int P = 0;
        for (int b = 0; b < B; b++)
        {
            if (prompts[b].Length == 0) throw new ArgumentException($"prompt {b} is empty; a prompt needs at least one token (for example the EOS token)");
            foreach (int id in prompts[b])
                if ((uint)id >= (uint)cfg.VocabSize) throw new ArgumentException($"prompt {b} holds token id {id}, outside the vocabulary [0, {cfg.VocabSize})");
            P = Math.Max(P, prompts[b].Length);
        }
        if (P > _maxPrompt) throw new ArgumentException($"a prompt of {P} tokens is longer than this generator's {_maxPrompt} (the context is {cfg.MaxSeqLen})");
        int steps = Math.Min(options.MaxNewTokens, _maxT - P);
        if (steps < 1) throw new ArgumentException($"a prompt of {P} tokens leaves no room in the context of {_maxT} tokens");

        // Left padding: row b's prompt occupies [P − len, P).
        var tokens = new int[B * P];
        var positions = new int[B * P];
        var keyMask = new int[B * _maxT];
        var promptLen = new int[B];
        for (int b = 0; b < B; b++)
        {
            int len = prompts[b].Length, pad = P - len;
            promptLen[b] = len;
            for (int t = 0; t < P; t++)
            {
                bool real = t >= pad;
                tokens[b * P + t] = real ? prompts[b][t - pad] : prompts[b][0];
                positions[b * P + t] = real ? t - pad : 0;
                keyMask[b * _maxT + t] = real ? 1 : 0;
            }
            for (int t = P; t < _maxT; t++) keyMask[b * _maxT + t] = 1;
        }
        _be.Upload<int>(Head(_arena["key_mask"], B * _maxT), keyMask);

        var output = new List<int>[B];
        var done = new bool[B];
        var eos = new bool[B];
        for (int b = 0; b < B; b++) output[b] = [];
        var uniforms = new float[B];
        var sampled = new int[B];
        var lastRows = new int[B];
        int past = 0, Tq = P;
        for (int step = 0; step < steps; step++)
        {
            _be.Upload<int>(Head(_arena["tokens"], B * Tq), tokens.AsSpan(0, B * Tq));
            _be.Upload<int>(Head(_arena["positions"], B * Tq), positions.AsSpan(0, B * Tq));
            for (int b = 0; b < B; b++) lastRows[b] = b * Tq + Tq - 1;
            _be.Upload<int>(Head(_arena["last_rows"], B), lastRows);
            Tensor logits = Forward(B, Tq, past);
            shaper?.Shape(Head(_arena["last"], B, cfg.Channels), logits, B);
            onLogits?.Invoke(step, logits);

            for (int b = 0; b < B; b++) uniforms[b] = rng.NextFloat();
            _be.Upload<float>(Head(_arena["uniforms"], B), uniforms);
            _be.SampleTokens(Head(_arena["sampled"], B), logits, Head(_arena["uniforms"], B), B, cfg.VocabSize,
                options.Temperature, options.TopK, options.TopP);
            _be.Download<int>(Head(_arena["sampled"], B), sampled);

            bool allDone = true;
            for (int b = 0; b < B; b++)
            {
                if (!done[b])
                {
                    output[b].Add(sampled[b]);
                    if (options.EosToken == sampled[b]) { done[b] = true; eos[b] = true; }
                }
                allDone &= done[b];
                tokens[b] = sampled[b];
                positions[b] = promptLen[b] + step;
            }
            if (allDone) break;
            past += Tq;
            Tq = 1;
        }
        var result = new GeneratedSequence[B];
        for (int b = 0; b < B; b++) result[b] = new GeneratedSequence(output[b].ToArray(), eos[b]);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="Tq"/> new positions per row through every layer, appending their keys and
    /// values to the cache at <paramref name="past"/>, and returns the [B, V] logits of each row's last one.
    /// </summary>
    private Tensor Forward(int B, int Tq, int past)
    {
        var cfg = _model.Config;
        var p = _model.Parameters;
        int C = cfg.Channels, NH = cfg.NumHeads, N = B * Tq;
        Tensor x = Head(_arena["x"], N, C), ln = Head(_arena["ln"], N, C), mean = Head(_arena["mean"], N), rstd = Head(_arena["rstd"], N);
        Tensor qkv = Head(_arena["qkv"], N, 3 * C), atty = Head(_arena["atty"], N, C), proj = Head(_arena["proj"], N, C);
        Tensor fch = Head(_arena["fch"], N, 4 * C), fchGelu = Head(_arena["fch_gelu"], N, 4 * C);
        Tensor keyMask = Head(_arena["key_mask"], B * _maxT);

        _be.EmbeddingForward(x, Head(_arena["tokens"], N), Head(_arena["positions"], N), p["wte.weight"], p["wpe.weight"], N, C);
        for (int l = 0; l < cfg.NumLayers; l++)
        {
            string w = GptParameters.Layer(l);
            _be.LayerNormForward(ln, mean, rstd, x, p[w + "ln_1.weight"], p[w + "ln_1.bias"], N, C);
            _be.MatmulForward(qkv, ln, p[w + "attn.c_attn.weight"], p[w + "attn.c_attn.bias"], N, C, 3 * C);
            _be.AttentionDecodeForward(atty, Head(_arena[$"k.{l}"], B * _maxT * C), Head(_arena[$"v.{l}"], B * _maxT * C),
                qkv, keyMask, past, B, Tq, C, NH, _maxT);
            _be.MatmulForward(proj, atty, p[w + "attn.c_proj.weight"], p[w + "attn.c_proj.bias"], N, C, C);
            _be.ResidualForward(x, x, proj, (long)N * C);
            _be.LayerNormForward(ln, mean, rstd, x, p[w + "ln_2.weight"], p[w + "ln_2.bias"], N, C);
            _be.MatmulForward(fch, ln, p[w + "mlp.c_fc.weight"], p[w + "mlp.c_fc.bias"], N, C, 4 * C);
            _be.GeluForward(fchGelu, fch, (long)N * 4 * C);
            _be.MatmulForward(proj, fchGelu, p[w + "mlp.c_proj.weight"], p[w + "mlp.c_proj.bias"], N, 4 * C, C);
            _be.ResidualForward(x, x, proj, (long)N * C);
        }
        _be.LayerNormForward(ln, mean, rstd, x, p["ln_f.weight"], p["ln_f.bias"], N, C);
        Tensor last = Head(_arena["last"], B, C), logits = Head(_arena["logits"], B, cfg.VocabSize);
        _be.GatherRowsForward(last, ln, Head(_arena["last_rows"], B), B, C);
        _be.MatmulForward(logits, last, p["wte.weight"], Tensor.None, B, C, cfg.VocabSize);
        return logits;
    }

    /// <summary>The leading elements of an arena tensor, shaped for the current batch.</summary>
    private static Tensor Head(Tensor t, params int[] shape) => t.Slice(0, shape.Aggregate(1L, (a, d) => a * d), shape);

    /// <inheritdoc/>
    public void Dispose() => _arena.Dispose();
}
