using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Token sampling, one row b of logits[B, V] at a time. The exact rule (every backend follows it):
//
//   Greedy (temperature = 0): the index of the largest logit, lowest index on ties.
//
//   Otherwise, with x = logits[b], u = uniforms[b]:
//   1. Rank order π: tokens by logit descending, ties by index ascending (−0 and +0 are equal). Ranking by
//      the logit rather than the probability means rounding creates no ties, so top-k = 1 is exactly greedy.
//   2. Weights: e[v] = exp((x[v] − max x) / temperature) in float32, then w[v] = floor(e[v] · 2^32), an
//      integer in [0, 2^32] (w[π(0)] = 2^32). Tokens with e < 2^-32 of the top token get weight 0 and are
//      never drawn. All sums below are sums of these integers, held in float64: exact (below 2^53 for any
//      V < 2^21), so independent of summation order. c(j) = Σ_{i≤j} w[π(i)] is the cumulative weight.
//   3. Top-k: S = c(topK − 1) when 0 < topK < V, else S = Σ_v w[v].
//   4. Top-p: when topP < 1, the kept set is π(0..L] for the first L with c(L) ≥ topP·S (the product
//      rounded to float64), and total = c(L). Otherwise total = S. The kept set is always a prefix of π.
//   5. Inverse CDF: target = u·total (float64), or total when u ≥ 1 or u is NaN. The token is π(j) for the
//      first j with c(j) ≥ target. (This lies inside the kept set because target ≤ total, and is never a
//      zero-weight token unless it is π(0).)
//
// Nothing is sorted in full. "The first j with c(j) ≥ target" (and "the topK-th token") is found by radix
// selection on a 32-bit key that orders floats: histogram the candidates' counts and weights by the key's
// top 11 bits, walk the buckets from the top to the one where the running sum crosses, keep only that
// bucket's tokens and repeat on the next 11 and then 10 bits. The survivors are a contiguous stretch of π:
// a short one is insertion-sorted; after all 32 bits they share one logit and are already in index order.
// Cost per row: a few passes over V plus work on one bucket, whatever the shape of the distribution.
// Rows are spread over min(B, threads) tasks; each task owns a scratch slice of V weights, keys and list
// entries, kept on the backend and reused across calls.
public sealed unsafe partial class CpuBackend
{
    private float[] _sampleWeights = [];
    private uint[] _sampleKeys = [];
    private int[] _sampleList = [];

    /// <inheritdoc/>
    public void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP)
    {
        SamplingArguments.Validate(V, temperature, topK, topP);
        int tasks = Math.Min(B, Pool.ThreadCount);
        long scratch = (long)tasks * V;
        if (temperature > 0f && _sampleWeights.Length < scratch)
        {
            _sampleWeights = new float[scratch];
            _sampleKeys = new uint[scratch];
            _sampleList = new int[scratch];
        }
        fixed (float* w = _sampleWeights)
        fixed (uint* keys = _sampleKeys)
        fixed (int* list = _sampleList)
        {
            var job = new SampleJob
            {
                Tokens = I(tokens), Logits = F(logits), Uniforms = F(uniforms), W = w, Keys = keys, List = list,
                B = B, V = V, Tasks = tasks, TopK = topK, Temperature = temperature, TopP = topP,
            };
            Pool.For(tasks, ref job);
        }
    }

    [SkipLocalsInit]
    private struct SampleJob : IParallelJob
    {
        public int* Tokens, List;
        public float* Logits, Uniforms, W;
        public uint* Keys;
        public int B, V, Tasks, TopK;
        public float Temperature, TopP;

        public void Execute(int task)
        {
            int* counts = stackalloc int[2 * RankSelect.Buckets];
            double* mass = stackalloc double[2 * RankSelect.Buckets];
            for (int b = task; b < B; b += Tasks)
            {
                float* x = Logits + (long)b * V;
                if (Temperature == 0f)
                {
                    Tokens[b] = ArgMax(x, V);
                    continue;
                }
                long at = (long)task * V;
                var rank = new RankSelect(x, W + at, Keys + at, List + at, V, Temperature, counts, mass);
                Tokens[b] = rank.Sample(Uniforms[b], TopK, TopP);
            }
        }

        private static int ArgMax(float* x, int v)
        {
            float m = SoftmaxRow.Max(x, v);
            for (int i = 0; i < v; i++) if (x[i] == m) return i;
            return 0; // only reachable when the row holds a NaN
        }
    }

    /// <summary>Radix selection over one row in rank order π (see the rule at the top of this file).</summary>
    private readonly ref struct RankSelect
    {
        /// <summary>Buckets per level (11 key bits at most).</summary>
        public const int Buckets = 2048;
        private const int SortBelow = 24;
        private const float WeightScale = 4294967296f; // 2^32

        private readonly float* _w;
        private readonly uint* _keys;
        private readonly int* _list;
        private readonly int _v;
        private readonly int* _counts0, _counts;
        private readonly double* _mass0, _mass;

        /// <summary>Computes the weights and keys of row <paramref name="x"/> and the top-level histogram.</summary>
        public RankSelect(float* x, float* w, uint* keys, int* list, int v, float temperature, int* counts, double* mass)
        {
            _w = w; _keys = keys; _list = list; _v = v;
            _counts0 = counts; _counts = counts + Buckets;
            _mass0 = mass; _mass = mass + Buckets;
            var ws = new Span<float>(w, v);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(x, v), SoftmaxRow.Max(x, v), ws);
            TensorPrimitives.Divide(ws, temperature, ws);
            TensorPrimitives.Exp(ws, ws);
            TensorPrimitives.Multiply(ws, WeightScale, ws);
            TensorPrimitives.Floor(ws, ws);
            new Span<int>(_counts0, Buckets).Clear();
            new Span<double>(_mass0, Buckets).Clear();
            for (int i = 0; i < v; i++)
            {
                uint bits = BitConverter.SingleToUInt32Bits(x[i] + 0f); // + 0 turns −0 into +0
                uint key = (bits & 0x8000_0000u) != 0 ? ~bits : bits | 0x8000_0000u;
                keys[i] = key;
                int bucket = (int)(key >> 21);
                _counts0[bucket]++;
                _mass0[bucket] += w[i];
            }
        }

        /// <summary>Steps 3–5 of the rule: the token drawn by <paramref name="u"/>.</summary>
        public int Sample(float u, int topK, float topP)
        {
            double s = 0;
            if (topK > 0 && topK < _v) Find(topK, 0, out s);
            else for (int b = 0; b < Buckets; b++) s += _mass0[b];
            double total = s;
            if (topP < 1f) Find(0, (double)topP * s, out total);
            return Find(0, u < 1f ? u * total : total, out _);
        }

        /// <summary>
        /// The first token in π at which the running count reaches <paramref name="rank"/> (when rank &gt; 0)
        /// or else the running weight reaches <paramref name="target"/>; <paramref name="cumulative"/> is the
        /// running weight up to and including it.
        /// </summary>
        private int Find(long rank, double target, out double cumulative)
        {
            long countAbove = 0;
            double massAbove = 0;
            int n = _v;
            for (int level = 0; level < 3; level++)
            {
                int* counts = level == 0 ? _counts0 : _counts;
                double* mass = level == 0 ? _mass0 : _mass;
                int shift = level == 0 ? 21 : level == 1 ? 10 : 0;
                uint digits = level == 2 ? 0x3FFu : 0x7FFu;
                if (level > 0)
                {
                    new Span<int>(counts, Buckets).Clear();
                    new Span<double>(mass, Buckets).Clear();
                    for (int i = 0; i < n; i++)
                    {
                        int t = _list[i];
                        int bucket = (int)((_keys[t] >> shift) & digits);
                        counts[bucket]++;
                        mass[bucket] += _w[t];
                    }
                }
                int chosen = -1;
                for (int bucket = (int)digits; bucket >= 0; bucket--)
                {
                    if (counts[bucket] == 0) continue;
                    chosen = bucket;
                    bool reached = rank > 0 ? countAbove + counts[bucket] >= rank : massAbove + mass[bucket] >= target;
                    if (reached) break;
                    countAbove += counts[bucket];
                    massAbove += mass[bucket];
                }
                // Keep the chosen bucket's tokens, in their current (index) order. Only a NaN weight can leave
                // no bucket reached; the lowest non-empty one is kept then.
                int kept = 0;
                for (int i = 0; i < n; i++)
                {
                    int t = level == 0 ? i : _list[i];
                    if ((int)((_keys[t] >> shift) & digits) == chosen) _list[kept++] = t;
                }
                n = kept;
                if (n < SortBelow && level < 2)
                {
                    SortByKeyDescending(n);
                    break;
                }
            }
            int last = _list[n - 1];
            for (int i = 0; i < n; i++)
            {
                int t = _list[i];
                countAbove++;
                massAbove += _w[t];
                if (rank > 0 ? countAbove >= rank : massAbove >= target)
                {
                    cumulative = massAbove;
                    return t;
                }
            }
            cumulative = massAbove;
            return last;
        }

        /// <summary>Stable insertion sort of list[0..n) by key, descending, so equal keys stay in index order.</summary>
        private void SortByKeyDescending(int n)
        {
            for (int i = 1; i < n; i++)
            {
                int t = _list[i];
                uint key = _keys[t];
                int j = i - 1;
                while (j >= 0 && _keys[_list[j]] < key)
                {
                    _list[j + 1] = _list[j];
                    j--;
                }
                _list[j + 1] = t;
            }
        }
    }
}
