// sampling.cu — one token per row of logits[B, V], the CPU backend's rule exactly (Cpu/Sampling.cs):
//   greedy (temperature 0): argmax, lowest index on ties.
//   otherwise, with x = logits[b], u = uniforms[b]:
//   1. rank order π: logit descending, index ascending on ties;
//   2. e[v] = exp((x[v] − max x) / temperature) in float32;
//   3. top-k (0 < k < V): candidates π(0..k), S = their mass; else all V tokens;
//   4. top-p (p < 1): keep the shortest prefix of π whose mass c_L ≥ p·S, total = c_L (all if none);
//   5. inverse CDF: the first kept token in π order with cumulative mass ≥ u·total; if none, the last
//      kept token with e > 0.
// How, without sorting: every token gets a unique 64-bit key, (descending-ordered logit bits << 32) | index,
// so π is ascending key order and "a prefix of π" is "keys ≤ a limit". Each step above is one
// "first key (≤ limit) where the running count or mass reaches a threshold" query, answered by an MSB-first
// radix select: 8-bit digits, a shared-memory histogram of counts and masses per digit, a serial scan of
// the 256 bins, descend into the crossing bin; stop as soon as that bin holds one key.
// Masses are fixed point (e·2^40 in u64) so histogram atomics are integer — exact and order-free, hence
// deterministic. This differs from the CPU's float64 sums only below 2^-40 per token, i.e. only for a
// uniform that lands within ~1e-12 of a boundary.
// Not a gradient kernel. Launch: grid B, block SAMPLE_THREADS (1024), ~3 KiB static shared memory.
#include "common.cuh"

#define SAMPLE_THREADS 1024
#define MASS_SCALE 1099511627776.0   /* 2^40 */

struct SampleParams {            // sizeof == 48
    int* tokens;
    const float* logits;
    const float* uniforms;
    int B, V;
    float temperature;
    int top_k;
    float top_p;
    int pad;
};
static_assert(sizeof(SampleParams) == 48, "SampleParams must match the C# struct");

// Ascending-orderable bits of a float, complemented so that larger logits give smaller keys.
__device__ __forceinline__ u64 rank_key(float x, int v) {
    u32 u = __float_as_uint(x);
    u32 asc = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return ((u64)(~asc) << 32) | (u32)v;
}

struct Row {
    const float* x;
    int V;
    float max, temperature;
    // The CPU's unnormalized probability: exp((x − max) / temperature), float32.
    __device__ __forceinline__ float e(int v) const { return expf((x[v] - max) / temperature); }
};

__device__ __forceinline__ u64 fixed_mass(float e) { return (u64)((double)e * MASS_SCALE); }

__device__ u64 block_sum_u64(u64 v) {
    __shared__ u64 s[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(RLHF_FULL_MASK, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) s[warp] = v;
    __syncthreads();
    v = lane < (blockDim.x >> 5) ? s[lane] : 0;
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(RLHF_FULL_MASK, v, o);
    __syncthreads();
    return v;
}

// Block-wide min (want_min) or max of a u64, every thread gets it.
__device__ u64 block_minmax_u64(u64 v, bool want_min) {
    __shared__ u64 s[32];
    for (int o = 16; o > 0; o >>= 1) {
        u64 w = __shfl_xor_sync(RLHF_FULL_MASK, v, o);
        v = want_min ? (w < v ? w : v) : (w > v ? w : v);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    if (lane == 0) s[warp] = v;
    __syncthreads();
    v = lane < (blockDim.x >> 5) ? s[lane] : (want_min ? ~0ull : 0ull);
    for (int o = 16; o > 0; o >>= 1) {
        u64 w = __shfl_xor_sync(RLHF_FULL_MASK, v, o);
        v = want_min ? (w < v ? w : v) : (w > v ? w : v);
    }
    __syncthreads();
    return v;
}

struct Selected { bool found; u64 key; u64 cum; };

// The smallest key k ≤ limit such that Σ weight(key') over keys' ≤ k (and ≤ limit) reaches thr, where
// weight is 1 (by_count) or the fixed-point mass. cum is that running sum at k.
__device__ Selected select_first(const Row& r, u64 limit, bool by_count, u64 thr) {
    __shared__ u32 counts[256];
    __shared__ u64 masses[256];
    __shared__ int chosen;
    __shared__ u64 before_s, found_key;
    __shared__ u32 chosen_count;
    u64 prefix = 0, mask = 0, before = 0;
    for (int shift = 56; shift >= 0; shift -= 8) {
        for (int i = threadIdx.x; i < 256; i += blockDim.x) { counts[i] = 0; masses[i] = 0; }
        __syncthreads();
        for (int v = threadIdx.x; v < r.V; v += blockDim.x) {
            u64 k = rank_key(r.x[v], v);
            if (k > limit || (k & mask) != prefix) continue;
            int bin = (int)((k >> shift) & 255);
            atomicAdd(&counts[bin], 1u);
            atomicAdd(&masses[bin], by_count ? 1ull : fixed_mass(r.e(v)));
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            u64 cum = before;
            chosen = -1;
            for (int b = 0; b < 256; b++) {
                if (counts[b] == 0) continue;
                if (cum + masses[b] >= thr) { chosen = b; chosen_count = counts[b]; break; }
                cum += masses[b];
            }
            before_s = cum;
        }
        __syncthreads();
        if (chosen < 0) return Selected{false, 0, 0};
        before = before_s;
        prefix |= (u64)chosen << shift;
        mask |= 255ull << shift;
        if (chosen_count == 1) break;
        __syncthreads();
    }
    // Exactly one key ≤ limit matches the prefix now: find it.
    for (int v = threadIdx.x; v < r.V; v += blockDim.x) {
        u64 k = rank_key(r.x[v], v);
        if (k <= limit && (k & mask) == prefix) found_key = k;
    }
    __syncthreads();
    u64 key = found_key;
    u64 w = by_count ? 1ull : fixed_mass(r.e((int)(u32)key));
    __syncthreads();
    return Selected{true, key, before + w};
}

extern "C" __global__ void sample_tokens(const SampleParams p) {
    __shared__ float scratch[32];
    int b = blockIdx.x;
    Row r;
    r.x = p.logits + (i64)b * p.V;
    r.V = p.V;
    if (p.temperature == 0.0f) {
        u64 best = ~0ull;
        for (int v = threadIdx.x; v < p.V; v += blockDim.x) { u64 k = rank_key(r.x[v], v); best = k < best ? k : best; }
        best = block_minmax_u64(best, true);
        if (threadIdx.x == 0) p.tokens[b] = (int)(u32)best;
        return;
    }
    float lm = -RLHF_INF;
    for (int v = threadIdx.x; v < p.V; v += blockDim.x) lm = fmaxf(lm, r.x[v]);
    r.max = block_max(lm, scratch);
    r.temperature = p.temperature;

    u64 limit = ~0ull;
    if (p.top_k > 0 && p.top_k < p.V) limit = select_first(r, ~0ull, true, (u64)p.top_k).key;

    u64 S = 0;
    for (int v = threadIdx.x; v < p.V; v += blockDim.x)
        if (rank_key(r.x[v], v) <= limit) S += fixed_mass(r.e(v));
    S = block_sum_u64(S);

    u64 total = S;
    if (p.top_p < 1.0f) {
        Selected kept = select_first(r, limit, false, (u64)ceil((double)p.top_p * (double)S));
        if (kept.found) { limit = kept.key; total = kept.cum; }
    }

    double u = p.uniforms[b];
    Selected pick = select_first(r, limit, false, (u64)ceil(u * (double)total));
    if (pick.found) {
        if (threadIdx.x == 0) p.tokens[b] = (int)(u32)pick.key;
        return;
    }
    u64 last = 0;   // no key is 0 unless logit bits are all ones (a NaN): then token 0, as the CPU
    for (int v = threadIdx.x; v < p.V; v += blockDim.x) {
        u64 k = rank_key(r.x[v], v);
        if (k <= limit && r.e(v) > 0.0f && k > last) last = k;
    }
    last = block_minmax_u64(last, false);
    if (threadIdx.x == 0) p.tokens[b] = (int)(u32)last;
}
