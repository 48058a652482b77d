// grad_norm.cu — global gradient norm and clipping.
//   sumsq_partial + sumsq_finish   result[0] = Σ x² over n elements, accumulated in double. Deterministic:
//       pass 1 always uses SUMSQ_BLOCKS blocks (a constant, not the SM count), each summing a fixed
//       grid-stride subset and reducing in a fixed tree; pass 2 (one block) adds the partials in order.
//       So the bits depend on n alone, on every GPU.
//   scale                          x *= scale (in place; clipping by the global norm)
// Neither is a gradient kernel: result is overwritten, scale updates x in place.
// Launch: sumsq_partial grid SUMSQ_BLOCKS × 256 threads; sumsq_finish 1 × 256; scale 1-D grid-stride × 256.
#include "common.cuh"

#define SUMSQ_BLOCKS 512

struct SumSqParams {             // sizeof == 32
    const float* x;
    double* partials;            // [SUMSQ_BLOCKS] scratch
    float* result;               // [1]
    i64 n;
};
static_assert(sizeof(SumSqParams) == 32, "SumSqParams must match the C# struct");

struct ScaleParams {             // sizeof == 24
    float* x;
    i64 n;
    float scale;
};
static_assert(sizeof(ScaleParams) == 24, "ScaleParams must match the C# struct");

extern "C" __global__ void sumsq_partial(const SumSqParams p) {
    __shared__ double scratch[32];
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    double acc = 0.0;
    i64 n4 = aligned16(p.x) ? p.n / 4 : 0;
    for (i64 i = start; i < n4; i += stride) {
        float4 v = ((const float4*)p.x)[i];
        acc += (double)v.x * v.x + (double)v.y * v.y + (double)v.z * v.z + (double)v.w * v.w;
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) acc += (double)p.x[i] * p.x[i];
    acc = block_sum_d(acc, scratch);
    if (threadIdx.x == 0) p.partials[blockIdx.x] = acc;
}

extern "C" __global__ void sumsq_finish(const SumSqParams p) {
    __shared__ double scratch[32];
    double acc = 0.0;
    for (int i = threadIdx.x; i < SUMSQ_BLOCKS; i += blockDim.x) acc += p.partials[i];
    acc = block_sum_d(acc, scratch);
    if (threadIdx.x == 0) p.result[0] = (float)acc;
}

extern "C" __global__ void scale(const ScaleParams p) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(p.x) ? p.n / 4 : 0;
    for (i64 i = start; i < n4; i += stride) {
        float4 v = ((float4*)p.x)[i];
        ((float4*)p.x)[i] = make_float4(v.x * p.scale, v.y * p.scale, v.z * p.scale, v.w * p.scale);
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) p.x[i] *= p.scale;
}
