using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;
using ILGPU.Runtime;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Parameters of the sampling kernel.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SamplingParams
{
    public int B, V, TopK;
    public float Temperature, TopP;
    public int Pad;
}

// Token sampling, one group per row b of logits[B, V], the CPU backend's rule exactly (Cpu/Sampling.cs):
//   greedy (temperature 0): argmax, lowest index on ties.
//   otherwise: rank order π (logit descending, index ascending, −0 = +0); integer weights
//   w[v] = floor(exp((x[v] − max x)/temperature)·2^32) computed in float32 as the CPU does; top-k mass S =
//   c(k − 1); top-p keeps the first L with c(L) ≥ topP·S; the token is π(j) for the first j with
//   c(j) ≥ u·total (total when u ≥ 1 or NaN).
// How, without sorting: every token gets a unique 64-bit key, (descending-ordered logit bits << 32) | index,
// so π is ascending key order and "a prefix of π" is "keys ≤ a limit". Each step is one "first key ≤ limit
// where the running count or weight reaches a threshold" query, answered by an MSB-first radix select:
// 8-bit digits, a shared-memory histogram of counts and weights per digit (integer atomics: exact and
// order-free, hence deterministic), a serial scan of the 256 bins by thread 0, descend into the crossing
// bin, stop once it holds one key. Weights are integers below 2^33·V, so every sum is exact, as the CPU's.
// Since c(j) is an integer, "c(j) ≥ t" for a float64 t is "c(j) ≥ ⌈t⌉".
// Not a gradient kernel.
public sealed partial class IlgpuBackend
{
    private Action<AcceleratorStream, KernelConfig, ArrayView<int>, ArrayView<float>, ArrayView<float>, SamplingParams> _sample = null!;

    private void LoadSamplingKernels() =>
        _sample = Load((a, s) => a.LoadKernel<ArrayView<int>, ArrayView<float>, ArrayView<float>, SamplingParams>(SampleKernel, s));

    /// <summary>Ascending-orderable key: larger logits first, then lower indices.</summary>
    private static ulong RankKey(float x, int v)
    {
        uint u = Interop.FloatAsInt(x + 0f); // + 0 turns −0 into +0
        uint asc = (u & 0x8000_0000u) != 0 ? ~u : u | 0x8000_0000u;
        return ((ulong)~asc << 32) | (uint)v;
    }

    /// <summary>The CPU's integer weight floor(exp((x − max)/temperature)·2^32), in float32 as it computes it.</summary>
    private static ulong Weight(float x, float max, float temperature) =>
        (ulong)XMath.Floor(XMath.Exp((x - max) / temperature) * 4294967296f);

    /// <summary>
    /// The smallest key k ≤ limit whose running count (byCount) or weight over keys ≤ k reaches thr; writes
    /// found (0/1), the key and the running sum at it to result[0..3) in shared memory. Every thread calls it.
    /// </summary>
    private static void SelectFirst(ArrayView<float> x, long row, int V, float max, float temperature, ulong limit, bool byCount, ulong thr,
        ArrayView<int> counts, ArrayView<ulong> masses, ArrayView<ulong> result)
    {
        ulong prefix = 0, mask = 0, before = 0;
        for (int shift = 56; shift >= 0; shift -= 8)
        {
            for (int i = Group.IdxX; i < 256; i += Group.DimX)
            {
                counts[i] = 0;
                masses[i] = 0;
            }
            Group.Barrier();
            for (int v = Group.IdxX; v < V; v += Group.DimX)
            {
                float xv = x[row + v];
                ulong k = RankKey(xv, v);
                if (k > limit || (k & mask) != prefix) continue;
                int bin = (int)((k >> shift) & 255);
                Atomic.Add(ref counts[bin], 1);
                Atomic.Add(ref masses[bin], byCount ? 1ul : Weight(xv, max, temperature));
            }
            Group.Barrier();
            if (Group.IsFirstThread)
            {
                ulong cum = before;
                ulong chosen = ulong.MaxValue, chosenCount = 0;
                for (int b = 0; b < 256; b++)
                {
                    if (counts[b] == 0) continue;
                    if (cum + masses[b] >= thr)
                    {
                        chosen = (ulong)b;
                        chosenCount = (ulong)counts[b];
                        break;
                    }
                    cum += masses[b];
                }
                result[0] = chosen;
                result[1] = cum;
                result[2] = chosenCount;
            }
            Group.Barrier();
            ulong c = result[0];
            if (c == ulong.MaxValue)
            {
                Group.Barrier();
                if (Group.IsFirstThread) result[0] = 0;
                Group.Barrier();
                return;
            }
            before = result[1];
            prefix |= c << shift;
            mask |= 255ul << shift;
            bool single = result[2] == 1;
            Group.Barrier();
            if (single) break;
        }
        // Exactly one key ≤ limit matches the prefix now: find it.
        for (int v = Group.IdxX; v < V; v += Group.DimX)
        {
            ulong k = RankKey(x[row + v], v);
            if (k <= limit && (k & mask) == prefix) result[1] = k;
        }
        Group.Barrier();
        if (Group.IsFirstThread)
        {
            ulong key = result[1];
            ulong w = byCount ? 1ul : Weight(x[row + (int)(uint)key], max, temperature);
            result[0] = 1;
            result[2] = before + w;
        }
        Group.Barrier();
    }

    internal static void SampleKernel(ArrayView<int> tokens, ArrayView<float> logits, ArrayView<float> uniforms, SamplingParams p)
    {
        var counts = SharedMemory.Allocate<int>(256);
        var masses = SharedMemory.Allocate<ulong>(256);
        var result = SharedMemory.Allocate<ulong>(3);
        for (int b = Grid.IdxX; b < p.B; b += Grid.DimX)
        {
            long row = (long)b * p.V;
            if (p.Temperature == 0f)
            {
                ulong best = ulong.MaxValue;
                for (int v = Group.IdxX; v < p.V; v += Group.DimX) best = XMath.Min(best, RankKey(logits[row + v], v));
                best = GroupExtensions.AllReduce<ulong, MinUInt64>(best);
                if (Group.IsFirstThread) tokens[b] = (int)(uint)best;
                continue;
            }
            float lm = float.NegativeInfinity;
            for (int v = Group.IdxX; v < p.V; v += Group.DimX) lm = XMath.Max(lm, logits[row + v]);
            float max = GroupExtensions.AllReduce<float, MaxFloat>(lm);

            ulong limit = ulong.MaxValue;
            ulong total;
            if (p.TopK > 0 && p.TopK < p.V)
            {
                SelectFirst(logits, row, p.V, max, p.Temperature, ulong.MaxValue, true, (ulong)p.TopK, counts, masses, result);
                limit = result[1];
                Group.Barrier();
                ulong s = 0;
                for (int v = Group.IdxX; v < p.V; v += Group.DimX)
                {
                    float xv = logits[row + v];
                    if (RankKey(xv, v) <= limit) s += Weight(xv, max, p.Temperature);
                }
                total = GroupExtensions.AllReduce<ulong, AddUInt64>(s);
            }
            else
            {
                ulong s = 0;
                for (int v = Group.IdxX; v < p.V; v += Group.DimX) s += Weight(logits[row + v], max, p.Temperature);
                total = GroupExtensions.AllReduce<ulong, AddUInt64>(s);
            }
            if (p.TopP < 1f)
            {
                SelectFirst(logits, row, p.V, max, p.Temperature, limit, false, (ulong)XMath.Ceiling((double)p.TopP * total), counts, masses, result);
                if (result[0] == 1)
                {
                    limit = result[1];
                    total = result[2];
                }
                Group.Barrier();
            }
            float u = uniforms[b];
            double target = u < 1f ? u * (double)total : total;
            SelectFirst(logits, row, p.V, max, p.Temperature, limit, false, (ulong)XMath.Ceiling(target), counts, masses, result);
            // target ≤ total, so a key is always found; π(0) is the fallback for a row holding NaN.
            if (Group.IsFirstThread) tokens[b] = result[0] == 1 ? (int)(uint)result[1] : (int)(uint)limit;
            Group.Barrier();
        }
    }

    /// <inheritdoc/>
    public void SampleTokens(Tensor tokens, Tensor logits, Tensor uniforms, int B, int V, float temperature, int topK, float topP)
    {
        SamplingArguments.Validate(V, temperature, topK, topP);
        if (B == 0) return;
        _sample(_stream, Rows(B), Ints(tokens), View(logits), View(uniforms),
            new SamplingParams { B = B, V = V, TopK = topK, Temperature = temperature, TopP = topP });
    }
}
