using System.Numerics.Tensors;
using Tensor = RlhfCore.Tensors.Tensor;

namespace RlhfCore.Backends.Cpu;

// Token sampling, one row b of logits[B, V] at a time. The exact rule (every backend must follow it):
//
//   Greedy (temperature = 0): the index of the largest logit, lowest index on ties.
//
//   Otherwise, with x = logits[b], u = uniforms[b]:
//   1. Rank order π: tokens by logit descending, ties by index ascending. (Ranking by the raw logit is the
//      same as ranking by probability, but has no ties created by rounding, so top-k = 1 is exactly greedy.)
//   2. e[v] = exp((x[v] − max x) / temperature) in float32 (unnormalized probabilities; e[π(0)] = 1).
//   3. Top-k: when 0 < topK < V the candidates are π(0..topK) and S = Σ_{j<topK} e[π(j)], summed in π order;
//      otherwise the candidates are all V tokens and S = Σ_v e[v], summed in index order. Sums are float64.
//   4. Top-p: when topP < 1 the kept set is the shortest prefix π(0..L) of the candidates (L ≥ 1) whose
//      mass c_L = Σ_{j<L} e[π(j)] (float64, π order) satisfies c_L ≥ topP·S (float64), and total = c_L; if
//      rounding leaves no such prefix, all candidates are kept and total is their π-order sum. When topP = 1
//      every candidate is kept and total = S.
//   5. Inverse CDF: target = u·total (float64). Walk the kept tokens in π order accumulating c (float64) and
//      return the first token with c ≥ target. If none qualifies (u ≥ 1, or rounding), return the last kept
//      token with e > 0.
//
// Only as much of π as the walk needs is materialized: a binary max-heap over the row (O(V) to build)
// is popped in π order, so a peaked distribution costs O(V + k log V) rather than a full sort.
// Rows are spread over min(B, threads) tasks; each task owns one scratch slice (e and the heap) of V
// entries, kept on the backend and reused across calls.
public sealed unsafe partial class CpuBackend
{
    private float[] _sampleProbs = [];
    private int[] _sampleHeap = [];

    /// <inheritdoc/>
    public void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP)
    {
        if (V < 1) throw new ArgumentOutOfRangeException(nameof(V), V, "vocabulary size must be positive");
        if (!(temperature >= 0f) || float.IsPositiveInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be finite and ≥ 0 (0 = greedy)");
        if (topK < 0) throw new ArgumentOutOfRangeException(nameof(topK), topK, "top-k must be ≥ 0 (0 = off)");
        if (!(topP > 0f && topP <= 1f)) throw new ArgumentOutOfRangeException(nameof(topP), topP, "top-p must be in (0, 1] (1 = off)");
        int tasks = Math.Min(B, Pool.ThreadCount);
        long scratch = (long)tasks * V;
        if (temperature > 0f && _sampleProbs.Length < scratch)
        {
            _sampleProbs = new float[scratch];
            _sampleHeap = new int[scratch];
        }
        fixed (float* e = _sampleProbs)
        fixed (int* heap = _sampleHeap)
        {
            var job = new SampleJob
            {
                Tokens = I(tokens), Logits = F(logits), Uniforms = F(uniforms), E = e, Heap = heap,
                B = B, V = V, Tasks = tasks, TopK = topK, Temperature = temperature, TopP = topP,
            };
            Pool.For(tasks, ref job);
        }
    }

    private struct SampleJob : IParallelJob
    {
        public int* Tokens, Heap;
        public float* Logits, Uniforms, E;
        public int B, V, Tasks, TopK;
        public float Temperature, TopP;

        public void Execute(int task)
        {
            for (int b = task; b < B; b += Tasks)
            {
                float* x = Logits + (long)b * V;
                Tokens[b] = Temperature == 0f
                    ? ArgMax(x, V)
                    : Sample(x, Uniforms[b], E + (long)task * V, Heap + (long)task * V);
            }
        }

        private static int ArgMax(float* x, int v)
        {
            float m = SoftmaxRow.Max(x, v);
            for (int i = 0; i < v; i++) if (x[i] == m) return i;
            return 0; // only reachable when the row holds a NaN
        }

        private readonly int Sample(float* x, float u, float* e, int* heap)
        {
            var es = new Span<float>(e, V);
            TensorPrimitives.Subtract(new ReadOnlySpan<float>(x, V), SoftmaxRow.Max(x, V), es);
            TensorPrimitives.Divide(es, Temperature, es);
            TensorPrimitives.Exp(es, es);

            var order = new RankHeap(x, heap, V);
            bool useTopK = TopK > 0 && TopK < V;
            int candidates = useTopK ? TopK : V;
            double s = 0;
            if (useTopK)
                for (int j = 0; j < candidates; j++) s += e[order.Get(j)];
            else
                for (int i = 0; i < V; i++) s += e[i];

            int kept = candidates;
            double total = s;
            if (TopP < 1f)
            {
                double threshold = (double)TopP * s, c = 0;
                int j = 0;
                while (j < candidates)
                {
                    c += e[order.Get(j++)];
                    if (c >= threshold) break;
                }
                kept = j;
                total = c;
            }

            double target = u * total, cum = 0;
            int lastPositive = order.Get(0);
            for (int j = 0; j < kept; j++)
            {
                int tok = order.Get(j);
                cum += e[tok];
                if (e[tok] > 0f) lastPositive = tok;
                if (cum >= target) return tok;
            }
            return lastPositive;
        }
    }

    /// <summary>
    /// The rank order π of a row, produced lazily: a binary max-heap on (logit desc, index asc) over the
    /// scratch array; the j-th popped token is stored at heap[V − 1 − j] (as in heapsort).
    /// </summary>
    private ref struct RankHeap
    {
        private readonly float* _x;
        private readonly int* _heap;
        private readonly int _v;
        private int _size;

        public RankHeap(float* x, int* heap, int v)
        {
            _x = x;
            _heap = heap;
            _v = v;
            _size = v;
            for (int i = 0; i < v; i++) heap[i] = i;
            for (int i = v / 2 - 1; i >= 0; i--) SiftDown(i);
        }

        /// <summary>π(j), popping the heap as far as needed.</summary>
        public int Get(int j)
        {
            while (_v - _size <= j)
            {
                int top = _heap[0];
                _heap[0] = _heap[--_size];
                _heap[_size] = top;
                SiftDown(0);
            }
            return _heap[_v - 1 - j];
        }

        private readonly bool Before(int a, int b) => _x[a] > _x[b] || (_x[a] == _x[b] && a < b);

        private readonly void SiftDown(int i)
        {
            int item = _heap[i];
            while (true)
            {
                int child = 2 * i + 1;
                if (child >= _size) break;
                if (child + 1 < _size && Before(_heap[child + 1], _heap[child])) child++;
                if (!Before(_heap[child], item)) break;
                _heap[i] = _heap[child];
                i = child;
            }
            _heap[i] = item;
        }
    }
}
