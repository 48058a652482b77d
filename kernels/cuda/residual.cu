// residual.cu — the residual add and its backward.
//   residual_forward   out = a + b            (out may alias a or b: purely elementwise)
//   residual_backward  dinp += dout           ACCUMULATES: the branch point sends the same gradient to both
//                                             of its inputs, so each input's gradient is a sum.
// Launch: 1-D grid-stride, 256 threads per block, at most a few blocks per SM. When `vec` is set (every
// pointer 16-byte aligned) the body moves float4s and a scalar loop finishes the n % 4 tail.
#include "common.cuh"

struct ResidualParams {          // sizeof == 32
    float* out;                  // forward: out; backward: dinp
    const float* a;              // forward: a;   backward: dout
    const float* b;              // forward: b;   backward: unused
    i64 n;
};
static_assert(sizeof(ResidualParams) == 32, "ResidualParams must match the C# struct");

extern "C" __global__ void residual_forward(const ResidualParams p) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(p.out) && aligned16(p.a) && aligned16(p.b) ? p.n / 4 : 0;
    const float4* a4 = (const float4*)p.a; const float4* b4 = (const float4*)p.b; float4* o4 = (float4*)p.out;
    for (i64 i = start; i < n4; i += stride) {
        float4 x = a4[i], y = b4[i];
        o4[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) p.out[i] = p.a[i] + p.b[i];
}

extern "C" __global__ void residual_backward(const ResidualParams p) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(p.out) && aligned16(p.a) ? p.n / 4 : 0;
    const float4* d4 = (const float4*)p.a; float4* o4 = (float4*)p.out;
    for (i64 i = start; i < n4; i += stride) {
        float4 x = o4[i], y = d4[i];
        o4[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
    }
    for (i64 i = 4 * n4 + start; i < p.n; i += stride) p.out[i] += p.a[i];
}
