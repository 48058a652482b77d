// logprobs.cu — per-token log-probabilities and entropy of softmax(logits[n]) for the RL losses.
// With m = max x, z = x − m, e = exp z, S = Σ e, p = e/S, log p = z − log S:
//   logprobs_forward    logp[n]    = z[tok] − log S
//   logprobs_backward   dlogits   += dlogp[n]·(1[v = tok] − p[v])
//   entropy_forward     entropy[n] = log S − (Σ e·z)/S
//   entropy_backward    dlogits   += dH[n]·(−p[v]·(log p[v] + H))  = −(dH/S)·e·(z − log S + H)
// Gradient rule: both backwards ACCUMULATE into dlogits (policy loss, KL penalty and entropy bonus share
// it). Rows whose upstream gradient is exactly 0 (padding) are skipped. Backwards recompute m, S (and H).
// A token outside [0, V) gives NaN (the CPU backend checks ids on the host).
// Launch: one block of LP_THREADS (512) per row; grid N.
#include "common.cuh"

struct LogProbsParams {          // sizeof == 40
    float* out;                  // logp or entropy (forward); dlogits (backward)
    const float* logits;
    const int* tokens;           // logprobs only
    const float* grad;           // dlogp or dentropy (backward)
    int N, V;
};
static_assert(sizeof(LogProbsParams) == 40, "LogProbsParams must match the C# struct");

// Block-wide (m, S, Σ e·z) of a row; ez only when want_ez. Every thread gets the results.
__device__ void row_stats(const float* x, int V, bool want_ez, float& m, float& S, float& ez) {
    __shared__ float scratch[32];
    float lm = -RLHF_INF;
    for (int i = threadIdx.x; i < V; i += blockDim.x) lm = fmaxf(lm, x[i]);
    m = block_max(lm, scratch);
    float ls = 0.0f, lez = 0.0f;
    for (int i = threadIdx.x; i < V; i += blockDim.x) {
        float z = x[i] - m, e = expf(z);
        ls += e;
        if (want_ez) lez = fmaf(e, z, lez);
    }
    S = block_sum(ls, scratch);
    ez = want_ez ? block_sum(lez, scratch) : 0.0f;
}

extern "C" __global__ void logprobs_forward(const LogProbsParams p) {
    int n = blockIdx.x, tok = p.tokens[n];
    const float* x = p.logits + (i64)n * p.V;
    float m, S, ez;
    row_stats(x, p.V, false, m, S, ez);
    if (threadIdx.x == 0) p.out[n] = tok >= 0 && tok < p.V ? (x[tok] - m) - logf(S) : __int_as_float(0x7fc00000);
}

extern "C" __global__ void logprobs_backward(const LogProbsParams p) {
    int n = blockIdx.x, tok = p.tokens[n];
    float g = p.grad[n];
    if (g == 0.0f) return;
    const float* x = p.logits + (i64)n * p.V;
    float* d = p.out + (i64)n * p.V;
    float m, S, ez;
    row_stats(x, p.V, false, m, S, ez);
    float k = -g / S;
    bool bad = tok < 0 || tok >= p.V;
    for (int i = threadIdx.x; i < p.V; i += blockDim.x) {
        float v = k * expf(x[i] - m);
        if (i == tok) v += g;
        d[i] += bad ? __int_as_float(0x7fc00000) : v;
    }
}

extern "C" __global__ void entropy_forward(const LogProbsParams p) {
    int n = blockIdx.x;
    float m, S, ez;
    row_stats(p.logits + (i64)n * p.V, p.V, true, m, S, ez);
    if (threadIdx.x == 0) p.out[n] = logf(S) - ez / S;
}

extern "C" __global__ void entropy_backward(const LogProbsParams p) {
    int n = blockIdx.x;
    float g = p.grad[n];
    if (g == 0.0f) return;
    const float* x = p.logits + (i64)n * p.V;
    float* d = p.out + (i64)n * p.V;
    float m, S, ez;
    row_stats(x, p.V, true, m, S, ez);
    float logS = logf(S), H = logS - ez / S, k = -g / S;
    for (int i = threadIdx.x; i < p.V; i += blockDim.x) {
        float z = x[i] - m;
        d[i] += k * expf(z) * (z - logS + H);
    }
}
