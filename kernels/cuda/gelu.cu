// gelu.cu — GELU, tanh form (GPT-2's "gelu_new"), forward and backward.
//   gelu(x)  = 0.5·x·(1 + tanh u),  u = √(2/π)·(x + 0.044715·x³)
//   gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·(1 − tanh² u)·√(2/π)·(1 + 3·0.044715·x²)
// Written through σ(2u) = 0.5·(1 + tanh u) = 1 / (1 + e^(−2u)), as the CPU backend: one exp, and no
// cancellation of 1 + tanh u near u = 0; 1 − tanh² u = 4·σ(2u)·(1 − σ(2u)).
// Gradient rule: dinp is an activation gradient and is OVERWRITTEN.
// Launch: 1-D grid-stride, 256 threads; float4 body when every pointer is 16-byte aligned, scalar tail.
#include "common.cuh"

struct GeluParams {              // sizeof == 32
    float* out;                  // forward: out; backward: dinp
    const float* inp;
    const float* dout;           // backward only
    i64 n;
};
static_assert(sizeof(GeluParams) == 32, "GeluParams must match the C# struct");

#define GELU_K 1.5957691216057308f           /* 2·√(2/π) */
#define GELU_K_CUBIC (GELU_K * 0.044715f)

__device__ __forceinline__ float gelu_fwd(float x) {
    return x / (1.0f + expf(x * fmaf(-GELU_K_CUBIC, x * x, -GELU_K)));
}

__device__ __forceinline__ float gelu_bwd(float x, float d) {
    float x2 = x * x;
    float s = 1.0f / (1.0f + expf(x * fmaf(-GELU_K_CUBIC, x2, -GELU_K)));   // σ(2u)
    // du/dx·2 = GELU_K·(1 + 3·0.044715·x²); d/dx[x·σ(2u)] = σ + x·σ(1−σ)·2u'
    float grad = s + x * s * (1.0f - s) * fmaf(3.0f * GELU_K_CUBIC, x2, GELU_K);
    return grad * d;
}

extern "C" __global__ void gelu_forward(const GeluParams p) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(p.out) && aligned16(p.inp) ? p.n / 4 : 0;
    for (i64 i = start; i < n4; i += stride) {
        float4 x = ((const float4*)p.inp)[i];
        ((float4*)p.out)[i] = make_float4(gelu_fwd(x.x), gelu_fwd(x.y), gelu_fwd(x.z), gelu_fwd(x.w));
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) p.out[i] = gelu_fwd(p.inp[i]);
}

extern "C" __global__ void gelu_backward(const GeluParams p) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(p.out) && aligned16(p.inp) && aligned16(p.dout) ? p.n / 4 : 0;
    for (i64 i = start; i < n4; i += stride) {
        float4 x = ((const float4*)p.inp)[i], d = ((const float4*)p.dout)[i];
        ((float4*)p.out)[i] = make_float4(gelu_bwd(x.x, d.x), gelu_bwd(x.y, d.y), gelu_bwd(x.z, d.z), gelu_bwd(x.w, d.w));
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) p.out[i] = gelu_bwd(p.inp[i], p.dout[i]);
}
