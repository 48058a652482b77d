using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Causal multi-head self-attention with a key padding mask, GPT-2 layout.
//
// qkv[B, T, 3C] holds q | k | v; head h owns channels [h·hs, (h+1)·hs) of each, hs = C / NH, scale = 1/√hs.
// Forward, per (b, h) and query t:
//   visible(s) ⇔ s ≤ t and keyMask[b, s] ≠ 0
//   att[t, s]  = softmax over visible s of scale·(q_t · k_s), 0 for the others (future or masked)
//   out_t      = Σ_s att[t, s] v_s
//   A query that sees no key (left padding) gets an all-zero att row and out_t = 0.
// Backward, with dpre[t, s] = ∂L/∂(q_t · k_s) (the gradient of the scaled score, times the scale):
//   dv_s       = Σ_t att[t, s] dout_t
//   dp[t, s]   = dout_t · v_s
//   dpre[t, s] = scale · att[t, s] · (dp[t, s] − Σ_s' att[t, s'] dp[t, s'])
//   dq_t       = Σ_s dpre[t, s] k_s,        dk_s = Σ_t dpre[t, s] q_t
//   No mask is needed: masked and future entries have att = 0 and so contribute nothing.
// Gradient rule: dqkv is an activation gradient and is overwritten; datt is scratch (it ends up holding dpre).
//
// Parallel over (b, h, block of rows). Backward runs in two passes so that each dk_s, dv_s is summed by a
// single task in a fixed order (t ascending): pass 1 computes dpre and dq per query row, pass 2 dk and
// dv per key row, reading columns of att and dpre. Weighted sums keep their accumulators in registers. Decode with a KV cache runs the same row routine (AttendRow) on cached keys with the
// same row length, so it reproduces the full forward bit for bit.
public sealed unsafe partial class CpuBackend
{
    /// <summary>Query (or key) rows per parallel task.</summary>
    private const int AttentionRowsPerTask = 8;

    /// <summary>Score rows for <see cref="AttentionDecodeForward"/>, one maxT slice per (b, h); grown, never shrunk.</summary>
    private float[] _decodeScores = [];

    /// <inheritdoc/>
    public long AttentionSavedFloats(int B, int T, int C, int NH) => (long)B * NH * T * T;

    /// <inheritdoc/>
    public long AttentionScratchFloats(int B, int T, int C, int NH) => (long)B * NH * T * T;

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor att, Tensor qkv, Tensor keyMask, int B, int T, int C, int NH)
    {
        int hs = HeadSize(C, NH, keyMask);
        int blocks = (T + AttentionRowsPerTask - 1) / AttentionRowsPerTask;
        var job = new AttentionForwardJob
        {
            Out = F(output), Att = F(att), Qkv = F(qkv), Mask = I(keyMask),
            T = T, C = C, NH = NH, Hs = hs, Blocks = blocks, Scale = 1f / MathF.Sqrt(hs),
        };
        Pool.For(B * NH * blocks, ref job);
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor dqkv, Tensor datt, Tensor dout, Tensor qkv, Tensor att, int B, int T, int C, int NH)
    {
        int hs = HeadSize(C, NH, Tensor.None, needsMask: false);
        int blocks = (T + AttentionRowsPerTask - 1) / AttentionRowsPerTask;
        var job = new AttentionBackwardJob
        {
            DQkv = F(dqkv), DAtt = F(datt), DOut = F(dout), Qkv = F(qkv), Att = F(att),
            T = T, C = C, NH = NH, Hs = hs, Blocks = blocks, Scale = 1f / MathF.Sqrt(hs),
        };
        Pool.For(B * NH * blocks, ref job);
        job.KeyPass = true;
        Pool.For(B * NH * blocks, ref job);
    }

    /// <inheritdoc/>
    public void AttentionDecodeForward(Tensor output, Tensor kCache, Tensor vCache, Tensor qkv, Tensor keyMask, int pastLength, int B, int Tq, int C, int NH, int maxT)
    {
        int hs = HeadSize(C, NH, keyMask);
        if (pastLength < 0 || Tq < 1 || pastLength + Tq > maxT)
            throw new ArgumentOutOfRangeException(nameof(pastLength), pastLength,
                $"attention decode: positions [{pastLength}, {pastLength + Tq}) do not fit a KV cache of {maxT} positions");
        long scratch = (long)B * NH * maxT;
        if (_decodeScores.Length < scratch) _decodeScores = new float[scratch];
        fixed (float* scores = _decodeScores)
        {
            var job = new AttentionDecodeJob
            {
                Out = F(output), KCache = F(kCache), VCache = F(vCache), Qkv = F(qkv), Mask = I(keyMask), Scores = scores,
                Past = pastLength, Tq = Tq, C = C, NH = NH, Hs = hs, MaxT = maxT, Scale = 1f / MathF.Sqrt(hs),
            };
            Pool.For(B * NH, ref job);
        }
    }

    private static int HeadSize(int C, int NH, Tensor keyMask, bool needsMask = true)
    {
        if (NH < 1 || C % NH != 0) throw new ArgumentException($"attention: {C} channels do not split into {NH} heads");
        if (needsMask && keyMask.IsNone) throw new ArgumentException("attention: keyMask is required (all ones when there is no padding)");
        return C / NH;
    }

    /// <summary>
    /// One query row: p[s] = softmax over visible s &lt; len of scale·(q · k_s), 0 elsewhere; o = Σ p[s] v_s.
    /// Keys and values are rows of <paramref name="hs"/> floats, <paramref name="kvStride"/> apart.
    /// </summary>
    private static void AttendRow(float* q, float* k, float* v, long kvStride, int* mask, int len, float scale, float* p, float* o, int hs)
    {
        float max = float.NegativeInfinity;
        for (int s = 0; s < len; s++)
        {
            if (mask[s] == 0) { p[s] = float.NegativeInfinity; continue; }
            float score = SoftmaxRow.Dot(q, k + s * kvStride, hs) * scale;
            p[s] = score;
            if (score > max) max = score;
        }
        var row = new Span<float>(p, len);
        if (max == float.NegativeInfinity)
        {
            row.Clear();
            new Span<float>(o, hs).Clear();
            return;
        }
        float sum = SoftmaxRow.SumExp(p, len, max, p);
        TensorPrimitives.Multiply(row, 1f / sum, row);
        SoftmaxRow.WeightedRowSum(o, p, 1, v, kvStride, len, hs);
    }

    private struct AttentionForwardJob : IParallelJob
    {
        public float* Out, Att, Qkv;
        public int* Mask;
        public int T, C, NH, Hs, Blocks;
        public float Scale;

        public void Execute(int task)
        {
            int bh = task / Blocks, b = bh / NH, h = bh % NH;
            int t0 = task % Blocks * AttentionRowsPerTask, t1 = Math.Min(T, t0 + AttentionRowsPerTask);
            long c3 = 3L * C;
            float* q = Qkv + (long)b * T * c3 + h * Hs;
            for (int t = t0; t < t1; t++)
            {
                float* p = Att + ((long)bh * T + t) * T;
                AttendRow(q + t * c3, q + C, q + 2 * C, c3, Mask + (long)b * T, t + 1, Scale, p, Out + ((long)b * T + t) * C + h * Hs, Hs);
                new Span<float>(p + t + 1, T - t - 1).Clear();
            }
        }
    }

    /// <summary>Pass 1 (query rows: dpre into datt, dq) unless <see cref="KeyPass"/>; pass 2 (key rows: dk, dv).</summary>
    private struct AttentionBackwardJob : IParallelJob
    {
        public float* DQkv, DAtt, DOut, Qkv, Att;
        public int T, C, NH, Hs, Blocks;
        public float Scale;
        public bool KeyPass;

        public void Execute(int task)
        {
            int bh = task / Blocks, b = bh / NH, h = bh % NH;
            int r0 = task % Blocks * AttentionRowsPerTask, r1 = Math.Min(T, r0 + AttentionRowsPerTask);
            long c3 = 3L * C;
            long head = (long)b * T * c3 + h * Hs;           // q of (b, t=0, h) in qkv and dqkv
            float* q = Qkv + head, k = q + C, v = q + 2 * C;
            float* dout = DOut + (long)b * T * C + h * Hs;
            float* att = Att + (long)bh * T * T, dpre = DAtt + (long)bh * T * T;
            if (!KeyPass)
            {
                for (int t = r0; t < r1; t++)
                {
                    float* p = att + (long)t * T, d = dpre + (long)t * T, dot = dout + (long)t * C;
                    for (int s = 0; s <= t; s++) d[s] = p[s] != 0f ? SoftmaxRow.Dot(dot, v + s * c3, Hs) : 0f;
                    float mean = SoftmaxRow.Dot(p, d, t + 1);
                    var dr = new Span<float>(d, t + 1);
                    TensorPrimitives.Subtract(dr, mean, dr);
                    TensorPrimitives.Multiply(dr, new ReadOnlySpan<float>(p, t + 1), dr);
                    TensorPrimitives.Multiply(dr, Scale, dr);
                    new Span<float>(d + t + 1, T - t - 1).Clear();
                    SoftmaxRow.WeightedRowSum(DQkv + head + t * c3, d, 1, k, c3, t + 1, Hs);
                }
                return;
            }
            for (int s = r0; s < r1; s++)
            {
                // Column s of att and dpre, rows t ≥ s (the entries above the diagonal are zero).
                long at = (long)s * T + s;
                float* dk = DQkv + head + s * c3 + C;
                SoftmaxRow.WeightedRowSum(dk, dpre + at, T, q + s * c3, c3, T - s, Hs);
                SoftmaxRow.WeightedRowSum(dk + C, att + at, T, dout + (long)s * C, C, T - s, Hs);
            }
        }
    }

    /// <summary>One (b, h) pair: store the new keys and values in the cache, then attend each new query.</summary>
    private struct AttentionDecodeJob : IParallelJob
    {
        public float* Out, KCache, VCache, Qkv, Scores;
        public int* Mask;
        public int Past, Tq, C, NH, Hs, MaxT;
        public float Scale;

        public void Execute(int bh)
        {
            int b = bh / NH, h = bh % NH;
            long c3 = 3L * C, cache = (long)bh * MaxT * Hs;
            float* kc = KCache + cache, vc = VCache + cache;
            float* q = Qkv + (long)b * Tq * c3 + h * Hs;
            for (int i = 0; i < Tq; i++)
            {
                long at = (long)(Past + i) * Hs;
                new ReadOnlySpan<float>(q + i * c3 + C, Hs).CopyTo(new Span<float>(kc + at, Hs));
                new ReadOnlySpan<float>(q + i * c3 + 2 * C, Hs).CopyTo(new Span<float>(vc + at, Hs));
            }
            float* scores = Scores + (long)bh * MaxT;
            for (int i = 0; i < Tq; i++)
                AttendRow(q + i * c3, kc, vc, Hs, Mask + (long)b * MaxT, Past + i + 1, Scale, scores, Out + ((long)b * Tq + i) * C + h * Hs, Hs);
        }
    }
}
