// layernorm.cu — LayerNorm over the last dimension C, eps 1e-5, as llm.c and the CPU backend:
//   forward   μ = mean(x), σ² = mean((x − μ)²), rstd = 1/√(σ² + eps), x̂ = (x − μ)·rstd,
//             out = x̂·weight + bias; saves μ and rstd.
//   backward  dx̂ = weight·dout
//             dinp    += rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))   ACCUMULATES (the residual stream)
//             dweight += Σₙ x̂·dout                             ACCUMULATES (parameter)
//             dbias   += Σₙ dout                               ACCUMULATES (parameter)
// Deterministic: dinp is row-local (one warp per row); dweight/dbias are column sums done in two passes —
// layernorm_dparams_partial writes per-chunk partials (LN_CHUNK_ROWS rows each, fixed tree within the
// block), layernorm_dparams_finish adds the chunks in order. No atomics.
// Launch: forward and backward_dinp: 256 threads = 8 warps = 8 rows per block, grid ceil(N/8).
//         dparams_partial: block (32, 8), grid (ceil(C/32), ceil(N/LN_CHUNK_ROWS)); finish: 1-D over C, 256.
#include "common.cuh"

#define LN_EPS 1e-5f
#define LN_CHUNK_ROWS 64

struct LayerNormParams {         // sizeof == 88
    float* out;                  // forward: out;  backward: dinp
    float* mean;
    float* rstd;
    const float* inp;
    const float* weight;
    const float* bias;
    const float* dout;           // backward only
    float* dweight;              // backward only
    float* dbias;                // backward only
    float* partials;             // backward scratch: [ceil(N/LN_CHUNK_ROWS), 2, C]
    int N, C;
};
static_assert(sizeof(LayerNormParams) == 88, "LayerNormParams must match the C# struct");

extern "C" __global__ void layernorm_forward(const LayerNormParams p) {
    int lane = threadIdx.x & 31;
    int n = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (n >= p.N) return;
    const float* x = p.inp + (i64)n * p.C;
    float s = 0.0f;
    for (int i = lane; i < p.C; i += 32) s += x[i];
    float mu = warp_sum(s) / p.C;
    float sq = 0.0f;
    for (int i = lane; i < p.C; i += 32) { float d = x[i] - mu; sq = fmaf(d, d, sq); }
    float rs = 1.0f / sqrtf(warp_sum(sq) / p.C + LN_EPS);
    float* o = p.out + (i64)n * p.C;
    for (int i = lane; i < p.C; i += 32) o[i] = fmaf((x[i] - mu) * rs, p.weight[i], p.bias[i]);
    if (lane == 0) { p.mean[n] = mu; p.rstd[n] = rs; }
}

extern "C" __global__ void layernorm_backward_dinp(const LayerNormParams p) {
    int lane = threadIdx.x & 31;
    int n = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (n >= p.N) return;
    const float* x = p.inp + (i64)n * p.C;
    const float* d = p.dout + (i64)n * p.C;
    float mu = p.mean[n], rs = p.rstd[n];
    float dn = 0.0f, dnx = 0.0f;
    for (int i = lane; i < p.C; i += 32) {
        float xh = (x[i] - mu) * rs, g = p.weight[i] * d[i];
        dn += g;
        dnx = fmaf(g, xh, dnx);
    }
    dn = warp_sum(dn) / p.C;
    dnx = warp_sum(dnx) / p.C;
    float* di = p.out + (i64)n * p.C;
    for (int i = lane; i < p.C; i += 32) {
        float xh = (x[i] - mu) * rs, g = p.weight[i] * d[i];
        di[i] += rs * (g - dn - xh * dnx);
    }
}

extern "C" __global__ void layernorm_dparams_partial(const LayerNormParams p) {
    __shared__ float sw[8][33], sb[8][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    int chunk = blockIdx.y, n0 = chunk * LN_CHUNK_ROWS, n1 = min(p.N, n0 + LN_CHUNK_ROWS);
    float aw = 0.0f, ab = 0.0f;
    if (c < p.C)
        for (int n = n0 + threadIdx.y; n < n1; n += blockDim.y) {
            float d = p.dout[(i64)n * p.C + c];
            float xh = (p.inp[(i64)n * p.C + c] - p.mean[n]) * p.rstd[n];
            aw = fmaf(xh, d, aw);
            ab += d;
        }
    sw[threadIdx.y][threadIdx.x] = aw;
    sb[threadIdx.y][threadIdx.x] = ab;
    __syncthreads();
    if (threadIdx.y == 0 && c < p.C) {
        for (int y = 1; y < blockDim.y; y++) { aw += sw[y][threadIdx.x]; ab += sb[y][threadIdx.x]; }
        p.partials[((i64)chunk * 2) * p.C + c] = aw;
        p.partials[((i64)chunk * 2 + 1) * p.C + c] = ab;
    }
}

extern "C" __global__ void layernorm_dparams_finish(const LayerNormParams p) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= p.C) return;
    int chunks = (p.N + LN_CHUNK_ROWS - 1) / LN_CHUNK_ROWS;
    float aw = 0.0f, ab = 0.0f;
    for (int k = 0; k < chunks; k++) {
        aw += p.partials[((i64)k * 2) * p.C + c];
        ab += p.partials[((i64)k * 2 + 1) * p.C + c];
    }
    p.dweight[c] += aw;
    p.dbias[c] += ab;
}
