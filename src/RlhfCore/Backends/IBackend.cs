using RlhfCore.Tensors;

namespace RlhfCore.Backends;

/// <summary>
/// The op set every backend implements: memory, transfers, and one method group per kernel family,
/// each with its forward and backward. Model, losses and trainers are written once against this.
/// <para>
/// Conventions (as llm.c): arguments are outputs, then values saved for backward, then inputs, then
/// weights, then dimensions. All float data is F32; token ids, positions, masks and indices are I32.
/// Row-major everywhere. Matmul weights are <c>[OC, C]</c> (out = inp · Wᵀ + b).
/// Gradient rule: parameter gradients accumulate (<c>+=</c>); activation gradients overwrite (<c>=</c>),
/// except where a method says it accumulates (the residual stream: LayerNorm's dinp, residual
/// backward, gather-rows backward, and matmul's dinp when asked).
/// </para>
/// <para>Kernels never allocate and never synchronize with the host, except the explicit transfers.</para>
/// </summary>
public interface IBackend : IDisposable
{
    /// <summary>Short name: "cpu" or "cuda".</summary>
    string Name { get; }

    /// <summary>One line describing the device (CPU model and threads, GPU name and memory).</summary>
    string DeviceDescription { get; }

    // ---- memory and transfers -------------------------------------------------------------------

    /// <summary>Allocates <paramref name="bytes"/> of uninitialized device memory, 64-byte aligned.</summary>
    DeviceBuffer Allocate(long bytes);

    /// <summary>Frees an address returned by <see cref="Allocate"/>. Called by <see cref="DeviceBuffer.Dispose"/>.</summary>
    void Free(nint address);

    /// <summary>Copies host data into <paramref name="dst"/> (element counts must match).</summary>
    void Upload<T>(Tensor dst, ReadOnlySpan<T> src) where T : unmanaged;

    /// <summary>Copies <paramref name="src"/> to the host: the only way values reach the host.</summary>
    void Download<T>(Tensor src, Span<T> dst) where T : unmanaged;

    /// <summary>Waits until all queued work is finished (a no-op on the CPU).</summary>
    void Synchronize();

    /// <summary>Sets every byte of <paramref name="t"/> to zero.</summary>
    void Zero(Tensor t);

    /// <summary>dst = src (same length; any dtype).</summary>
    void Copy(Tensor dst, Tensor src);

    // ---- embedding: token + position --------------------------------------------------------------

    /// <summary>out[n, :] = wte[tokens[n], :] + wpe[positions[n], :] for n in [0, N).</summary>
    /// <param name="output">[N, C]</param><param name="tokens">[N] I32</param><param name="positions">[N] I32</param>
    /// <param name="wte">[V, C]</param><param name="wpe">[maxT, C]</param>
    void EmbeddingForward(Tensor output, Tensor tokens, Tensor positions, Tensor wte, Tensor wpe, int N, int C);

    /// <summary>dwte[tokens[n]] += dout[n]; dwpe[positions[n]] += dout[n]. Deterministic for repeated ids.</summary>
    void EmbeddingBackward(Tensor dwte, Tensor dwpe, Tensor dout, Tensor tokens, Tensor positions, int N, int C);

    // ---- LayerNorm ---------------------------------------------------------------------------------

    /// <summary>out = (inp − mean) · rstd · weight + bias per row, eps 1e-5; saves mean and rstd.</summary>
    /// <param name="output">[N, C]</param><param name="mean">[N]</param><param name="rstd">[N]</param>
    void LayerNormForward(Tensor output, Tensor mean, Tensor rstd, Tensor inp, Tensor weight, Tensor bias, int N, int C);

    /// <summary>dinp += (residual stream), dweight += , dbias += .</summary>
    void LayerNormBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, Tensor mean, Tensor rstd, int N, int C);

    // ---- matmul with bias --------------------------------------------------------------------------

    /// <summary>out[N, OC] = inp[N, C] · weight[OC, C]ᵀ + bias[OC] (bias may be <see cref="Tensor.None"/>).</summary>
    void MatmulForward(Tensor output, Tensor inp, Tensor weight, Tensor bias, int N, int C, int OC);

    /// <summary>
    /// dinp[N, C] = dout · weight (or += when <paramref name="accumulateDinp"/>; skipped when dinp is None);
    /// dweight[OC, C] += doutᵀ · inp; dbias[OC] += Σₙ dout (skipped when None).
    /// </summary>
    void MatmulBackward(Tensor dinp, Tensor dweight, Tensor dbias, Tensor dout, Tensor inp, Tensor weight, int N, int C, int OC, bool accumulateDinp = false);

    // ---- causal multi-head attention with a padding mask -------------------------------------------

    /// <summary>
    /// Causal self-attention over qkv[B, T, 3C] (q, k, v each [B, T, NH, C/NH]), scaled by 1/sqrt(C/NH).
    /// Key position s is visible to query t when s ≤ t and keyMask[b, s] ≠ 0 (keyMask is required: all ones when there is no padding). A query that sees no key
    /// gets zero output. Saves what backward needs in att (<see cref="AttentionSavedFloats"/> floats).
    /// </summary>
    void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH);

    /// <summary>
    /// Floats <see cref="AttentionForward"/> saves in <c>att</c> for the backward pass: the probabilities
    /// B·NH·T·T on the CPU; a fused kernel keeps far less (the CUDA backend: per-row log-sum-exp and copies
    /// of the mask and output). Activation tables size <c>att</c> from this.
    /// </summary>
    long AttentionSavedFloats(int B, int T, int C, int NH);

    /// <summary>Floats of the <c>datt</c> scratch <see cref="AttentionBackward"/> needs.</summary>
    long AttentionScratchFloats(int B, int T, int C, int NH);

    /// <summary>dqkv = (overwrites) the gradient through attention; datt is scratch of <see cref="AttentionScratchFloats"/>.</summary>
    void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH);

    /// <summary>
    /// Incremental attention with a KV cache (generation). Writes k and v of the <paramref name="Tq"/> new
    /// positions from qkv[B, Tq, 3C] into kCache/vCache[B, NH, maxT, C/NH] at [pastLength, pastLength+Tq),
    /// then attends each new query at absolute position pastLength+i to cached keys s ≤ pastLength+i with
    /// keyMask[b, s] ≠ 0 (keyMask is [B, maxT]). Output [B, Tq, C]. Same numbers as <see cref="AttentionForward"/>.
    /// </summary>
    void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT);

    // ---- GELU (tanh form, as GPT-2) ----------------------------------------------------------------

    /// <summary>out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    void GeluForward(Tensor output, Tensor inp, long n);

    /// <summary>dinp = gelu'(inp) · dout (overwrites).</summary>
    void GeluBackward(Tensor dinp, Tensor inp, Tensor dout, long n);

    // ---- residual add ------------------------------------------------------------------------------

    /// <summary>out = a + b (out may alias a or b).</summary>
    void ResidualForward(Tensor output, Tensor a, Tensor b, long n);

    /// <summary>dinp += dout: the residual branch point sends the same gradient to both of its inputs.</summary>
    void ResidualBackward(Tensor dinp, Tensor dout, long n);

    // ---- row gather (score at the last real token) -------------------------------------------------

    /// <summary>out[m, :] = inp[rows[m], :] for m in [0, M).</summary>
    void GatherRowsForward(Tensor output, Tensor inp, Tensor rows, int M, int C);

    /// <summary>dinp[rows[m], :] += dout[m, :] (accumulates; deterministic for repeated rows).</summary>
    void GatherRowsBackward(Tensor dinp, Tensor dout, Tensor rows, int M, int C);

    // ---- column gather (a value per row at a per-row index: Q(s, a) at the taken action) -------------

    /// <summary>out[n] = inp[n, cols[n]] for inp[N, V] and cols [N] I32 in [0, V) (the CPU backend throws on others; a GPU kernel writes NaN).</summary>
    void GatherColumnsForward(Tensor output, Tensor inp, Tensor cols, int N, int V);

    /// <summary>dinp[n, cols[n]] += dout[n] (accumulates; a column outside [0, V) is skipped on a GPU, an error on the CPU).</summary>
    void GatherColumnsBackward(Tensor dinp, Tensor dout, Tensor cols, int N, int V);

    // ---- fused softmax + cross-entropy (llm.c's fused classifier) ----------------------------------

    /// <summary>
    /// For each row n of logits[N, V]: losses[n] = −log softmax(logits[n])[targets[n]]; and, unless
    /// <paramref name="dlogits"/> is None, dlogits[n, :] = weights[n] · (softmax(logits[n]) − onehot(targets[n]))
    /// in the same pass. dlogits may alias logits; weights may be None (1 for every row). A target of −1 is ignored: loss 0, dlogits row 0.
    /// </summary>
    void CrossEntropyForwardBackward(Tensor losses, Tensor dlogits, Tensor logits, Tensor targets, Tensor weights, int N, int V);

    // ---- per-token log-probabilities and entropy (for the RL losses) --------------------------------

    /// <summary>logp[n] = log softmax(logits[n])[tokens[n]] (tokens must be in [0, V)).</summary>
    void TokenLogProbsForward(Tensor logp, Tensor logits, Tensor tokens, int N, int V);

    /// <summary>dlogits[n, v] += dlogp[n] · (1[v = tokens[n]] − p[n, v]) (accumulates).</summary>
    void TokenLogProbsBackward(Tensor dlogits, Tensor dlogp, Tensor logits, Tensor tokens, int N, int V);

    /// <summary>entropy[n] = −Σᵥ p[n, v] log p[n, v].</summary>
    void EntropyForward(Tensor entropy, Tensor logits, int N, int V);

    /// <summary>dlogits[n, v] += dentropy[n] · (−p[n, v] (log p[n, v] + entropy[n])) (accumulates).</summary>
    void EntropyBackward(Tensor dlogits, Tensor dentropy, Tensor logits, int N, int V);

    // ---- sampling ----------------------------------------------------------------------------------

    /// <summary>
    /// Draws one token per row of logits[B, V] by inverse-CDF on uniforms[b] ∈ [0, 1), after temperature,
    /// then top-k (0 = off), then top-p (1 = off) filtering; greedy (argmax, lowest index on ties) when
    /// temperature is 0. Random numbers come from the caller so every backend draws the same tokens.
    /// </summary>
    void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP);

    // ---- AdamW -------------------------------------------------------------------------------------

    /// <summary>
    /// One AdamW step over n elements with bias correction (step counts from 1):
    /// g = gradScale·grad; m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²;
    /// param −= lr · (m̂ / (√v̂ + eps) + weightDecay · param).
    /// </summary>
    void AdamWUpdate(Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps, float weightDecay, float gradScale, int step);

    /// <summary>
    /// <see cref="AdamWUpdate"/> with the optimizer telemetry of the step accumulated in the same pass over the data:
    /// param, m and v end bit for bit as <see cref="AdamWUpdate"/> leaves them, and stats[0, KernelSlots) holds what
    /// <see cref="OptimizerStatistics"/> would write for this tensor given the parameters from before the step as
    /// <c>previous</c>, m as the momentum and v as the second moment (both after the step), with <paramref name="vThreshold"/>.
    /// No copy of the parameters and no host read: the telemetry of a recorded AdamW step.
    /// </summary>
    void AdamWUpdateWithStatistics(Tensor stats, Tensor param, Tensor grad, Tensor m, Tensor v, long n, float lr, float beta1, float beta2, float eps,
        float weightDecay, float gradScale, int step, float vThreshold);

    /// <summary>
    /// One SGD step over n elements (torch.optim.SGD, dampening 0): g = gradScale·grad + weightDecay·param;
    /// buf = momentum·buf + g; param −= lr · (nesterov ? g + momentum·buf : buf).
    /// </summary>
    void SgdUpdate(Tensor param, Tensor grad, Tensor momentumBuffer, long n, float lr, float momentum, float weightDecay, float gradScale, bool nesterov);

    /// <summary>
    /// One Lion step over n elements (Chen et al. 2023): g = gradScale·grad; c = β1 m + (1−β1) g;
    /// param −= lr · (sign(c) + weightDecay · param); m = β2 m + (1−β2) g. sign(0) = sign(NaN) = 0.
    /// </summary>
    void LionUpdate(Tensor param, Tensor grad, Tensor m, long n, float lr, float beta1, float beta2, float weightDecay, float gradScale);

    /// <summary>
    /// One Adafactor step (Shazeer &amp; Stern 2018, in Hugging Face's order) on a row-major [rows, cols] tensor.
    /// g = gradScale·grad. Factored (<paramref name="vCol"/> given; vRow [rows], vCol [cols]):
    /// vRow[i] = β2·vRow[i] + (1−β2)·mean_j(g² + eps1), vCol[j] = β2·vCol[j] + (1−β2)·mean_i(g² + eps1),
    /// v̂[i, j] = vRow[i]·vCol[j] / mean(vRow). Unfactored (vCol is None; vRow holds rows·cols elements):
    /// v = β2·v + (1−β2)·(g² + eps1), v̂ = v. Then u = g/√v̂; u /= max(1, RMS(u)/clipThreshold);
    /// α = lr·(scaleParameter ? max(eps2, RMS(param)) : 1); when β1 &gt; 0, m = β1·m + (1−β1)·α·u and the step is m,
    /// else α·u (m may be None); param −= α·weightDecay·param + step. The RMS values are device reductions: no host read.
    /// </summary>
    void AdafactorUpdate(Tensor param, Tensor grad, Tensor vRow, Tensor vCol, Tensor m, int rows, int cols, float lr, float beta1, float beta2,
        float eps1, float eps2, float clipThreshold, float weightDecay, float gradScale, bool scaleParameter);

    /// <summary>
    /// Optimizer telemetry of one parameter tensor of n elements, as the slots of
    /// <see cref="Optim.Telemetry.OptimizerStatisticSlots"/> (writes stats[0, KernelSlots), F32, sums accumulated in double):
    /// with g = gradScale·grad, Σg², Σparam², Σprevious², Σ(param − previous)², mean|momentum|, Σmomentum², Σg·momentum,
    /// the fraction where sign(previous − param) = sign(momentum), mean v, max v and the fraction of v below
    /// <paramref name="vThreshold"/>. momentum and v may be None (their slots are 0). Deterministic; no host read.
    /// </summary>
    void OptimizerStatistics(Tensor stats, Tensor param, Tensor previous, Tensor grad, Tensor momentum, Tensor v, long n, float gradScale, float vThreshold);

    /// <summary>output = α·x + β·y over n elements (output may alias x or y): the elementwise part of Muon.</summary>
    void LinearCombination(Tensor output, Tensor x, Tensor y, float alpha, float beta, long n);

    // ---- global gradient norm and clipping -----------------------------------------------------------

    /// <summary>result[0] = Σ x² over n elements (result is a 1-element F32 tensor), deterministic.</summary>
    void SumOfSquares(Tensor result, Tensor x, long n);

    /// <summary>x *= scale (used to clip gradients by their global norm).</summary>
    void Scale(Tensor x, float scale, long n);

    // ---- PPO clipped loss, fused over the vocabulary ----------------------------------------------

    /// <summary>
    /// For each token n (logits[N, V], action a = actions[n]): logp = log softmax(logits[n])[a];
    /// ratio = exp(logp − oldLogp[n]); pg = max(−A·ratio, −A·clamp(ratio, 1−clipLow, 1+clipHigh)) with
    /// A = advantages[n] (DAPO's clip-higher when clipLow ≠ clipHigh; PPO's ε when equal); with the dual clip
    /// on (dualClip = c &gt; 1; 0 = off) and A &lt; 0, pg = min(pg, −A·c) (Ye et al. 2020, verl's clip_ratio_c);
    /// H = entropy of softmax(logits[n]); losses[n] = pg − entropyCoef·H.
    /// Writes logp[n], entropy[n], clipped[n] (F32: 1 when the ratio clip's term is strictly the larger, as TRL's
    /// and verl's clipfrac; 2 when the dual clip's −A·c is strictly the smaller, as verl's pg_clipfrac_lower;
    /// else 0 — with c &gt; 1 the two exclude each other) and, in the same pass, dlogits[n, :] =
    /// weights[n]·(∂pg/∂logp·(onehot(a) − p) − entropyCoef·∂H/∂logits), where ∂pg/∂logp = −A·ratio when
    /// clipped[n] = 0 and 0 otherwise (a tie, as when the ratio is inside the clip range, takes the unclipped
    /// branch's gradient, as PyTorch's max, min and clamp do). dlogits is the gradient of Σₙ weights[n]·losses[n]
    /// and may alias logits. With entropyCoef 0 this is TRL's per-token policy loss. A weight of 0 (padding)
    /// gives an exactly zero dlogits row; its outputs are still written. actions are I32 in [0, V) (give padding
    /// rows any valid token): the CPU backend throws on others, the CUDA kernel writes NaN to that row's loss
    /// and logp. Logits must be finite. The clip settings are checked by <see cref="RlhfCore.Rl.PolicyClip"/>.
    /// </summary>
    void PpoLossForwardBackward(Tensor dlogits, Tensor losses, Tensor logp, Tensor entropy, Tensor clipped,
        Tensor logits, Tensor actions, Tensor oldLogp, Tensor advantages, Tensor weights, int N, int V, float clipLow, float clipHigh,
        float dualClip, float entropyCoef);

    // ---- generalized advantage estimation -----------------------------------------------------------

    /// <summary>
    /// GAE per row of [B, T] as a reverse scan (mask is F32, 0 or 1): positions with mask = 0 get advantage 0 and return 0 and
    /// are skipped (the next value after a row's last real position is 0). For real positions, from the
    /// end: δ = rewards[t] + γ·V(next real) − values[t]; A[t] = δ + γλ·A(next real); returns = A + values.
    /// Also writes moments[0..3) = (Σ mask, Σ mask·A, Σ mask·A²) over the whole batch, for whitening (summed
    /// in double in a fixed order, stored as F32). Masked positions may sit anywhere: left, right or mid-row.
    /// </summary>
    void GaeForward(Tensor advantages, Tensor returns, Tensor moments, Tensor rewards, Tensor values, Tensor mask, int B, int T, float gamma, float lambda);

    /// <summary>x[i] = mask[i] ≠ 0 ? (x[i] − mean)·scale : 0 (advantage whitening; mask is F32).</summary>
    void MaskedNormalize(Tensor x, Tensor mask, float mean, float scale, long n);
}
