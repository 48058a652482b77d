// common.cuh — small device helpers shared by every kernels/cuda/*.cu.
// NVRTC compiles these without any host or CUDA toolkit headers, so everything needed beyond NVRTC's
// built-ins (math functions, vector types, warp intrinsics, atomics) is defined here.
// Conventions: every kernel takes ONE by-value parameter struct, mirrored in C# with the same field order
// and size; each .cu states sizeof(...) in a static_assert that a C# test compares with Unsafe.SizeOf<T>().
#pragma once

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;

#define RLHF_FULL_MASK 0xffffffffu

// Sum over the 32 lanes of a warp (every lane gets the result; fixed butterfly order: deterministic).
__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(RLHF_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(RLHF_FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(RLHF_FULL_MASK, v, o));
    return v;
}

// Block-wide sum, returned to every thread. `scratch` holds at least 32 floats of shared memory.
// The reduction order depends only on blockDim, so results are deterministic. Ends with a barrier so
// scratch may be reused immediately.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    v = warp_sum(v);
    __syncthreads();
    return v;
}

__device__ __forceinline__ double block_sum_d(double v, double* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_sum_d(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0;
    v = warp_sum_d(v);
    __syncthreads();
    return v;
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    v = warp_max(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -__int_as_float(0x7f800000);
    v = warp_max(v);
    __syncthreads();
    return v;
}

// True when a pointer is 16-byte aligned (float4 loads are legal).
__device__ __forceinline__ bool aligned16(const void* p) { return (((u64)p) & 15) == 0; }

#define RLHF_INF __int_as_float(0x7f800000)
