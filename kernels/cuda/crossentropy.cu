// crossentropy.cu — fused softmax + cross-entropy (llm.c's fused classifier), one block per row n:
//   m = max x, S = Σ exp(x − m);  losses[n] = log S − (x[target] − m)
//   dlogits[n, v] = w[n]·(exp(x[v] − m)/S − 1[v = target])      (when dlogits is not null; w = 1 if no weights)
// target = −1: loss 0 and a zero dlogits row. A target ≥ V (invalid; the CPU backend throws on the host)
// gives a NaN loss so the training loop's NaN guard stops.
// Gradient rule: dlogits is an activation gradient and is OVERWRITTEN. dlogits may alias logits: each
// element is read and written by the same thread, and x[target] is read before the barrier that precedes
// any write.
// One pass over the row for (max, sum) with the online-softmax update, a second to write dlogits.
// Launch: grid N, block CE_THREADS (1024); no dynamic shared memory.
#include "common.cuh"

struct CrossEntropyParams {      // sizeof == 48
    float* losses;
    float* dlogits;              // may be null (forward only)
    const float* logits;
    const int* targets;
    const float* weights;        // may be null (w = 1)
    int N, V;
};
static_assert(sizeof(CrossEntropyParams) == 48, "CrossEntropyParams must match the C# struct");

// Merges two online-softmax states (m, s): s is Σ exp(x − m).
__device__ __forceinline__ void softmax_merge(float& m, float& s, float m2, float s2) {
    float mn = fmaxf(m, m2);
    if (mn == -RLHF_INF) return;
    s = s * expf(m - mn) + s2 * expf(m2 - mn);
    m = mn;
}

// Block-wide (max, Σ exp(x − max)) of row x[0, V), returned to every thread.
__device__ void row_softmax_stats(const float* x, int V, float& m_out, float& s_out) {
    __shared__ float sm[32], ss[32];
    float m = -RLHF_INF, s = 0.0f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float v = x[i];
        if (v > m) { s = s * expf(m - v) + 1.0f; m = v; }
        else s += expf(v - m);
    }
    for (int o = 16; o > 0; o >>= 1) {
        float m2 = __shfl_xor_sync(RLHF_FULL_MASK, m, o), s2 = __shfl_xor_sync(RLHF_FULL_MASK, s, o);
        softmax_merge(m, s, m2, s2);
    }
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) { sm[warp] = m; ss[warp] = s; }
    __syncthreads();
    m = lane < warps ? sm[lane] : -RLHF_INF;
    s = lane < warps ? ss[lane] : 0.0f;
    for (int o = 16; o > 0; o >>= 1) {
        float m2 = __shfl_xor_sync(RLHF_FULL_MASK, m, o), s2 = __shfl_xor_sync(RLHF_FULL_MASK, s, o);
        softmax_merge(m, s, m2, s2);
    }
    __syncthreads();
    m_out = m;
    s_out = s;
}

extern "C" __global__ void crossentropy_forward_backward(const CrossEntropyParams p) {
    int n = blockIdx.x;
    const float* x = p.logits + (i64)n * p.V;
    float* d = p.dlogits ? p.dlogits + (i64)n * p.V : 0;
    int target = p.targets[n];
    if (target < 0) {
        if (threadIdx.x == 0) p.losses[n] = 0.0f;
        if (d) for (int i = threadIdx.x; i < p.V; i += blockDim.x) d[i] = 0.0f;
        return;
    }
    if (target >= p.V) {
        if (threadIdx.x == 0) p.losses[n] = __int_as_float(0x7fc00000);
        if (d) for (int i = threadIdx.x; i < p.V; i += blockDim.x) d[i] = __int_as_float(0x7fc00000);
        return;
    }
    float xt = x[target];                 // read before row_softmax_stats' barriers, so before any write
    float m, s;
    row_softmax_stats(x, p.V, m, s);
    if (threadIdx.x == 0) p.losses[n] = logf(s) - (xt - m);
    if (!d) return;
    float w = p.weights ? p.weights[n] : 1.0f;
    float scale = w / s;
    for (int i = threadIdx.x; i < p.V; i += blockDim.x) {
        float g = expf(x[i] - m) * scale;
        d[i] = i == target ? g - w : g;
    }
}
