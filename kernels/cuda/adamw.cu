// adamw.cu — one AdamW step over n elements (Loshchilov & Hutter), in place on param, m, v:
//   g = gradScale·grad;  m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g²
//   param −= lr·(m·mHatScale / (√(v·vHatScale) + eps) + weightDecay·param)
// with mHatScale = 1/(1 − β1ᵗ), vHatScale = 1/(1 − β2ᵗ) computed on the host in double (as the CPU
// backend, with the same FMAs, so both backends round alike). grad is read only.
// Not a gradient kernel: it consumes the accumulated parameter gradients.
// Launch: 1-D grid-stride, 256 threads; float4 body when every pointer is 16-byte aligned, scalar tail.
#include "common.cuh"

struct AdamWParams {             // sizeof == 72
    float* param;
    const float* grad;
    float* m;
    float* v;
    i64 n;
    float lr, beta1, beta2, eps, weight_decay, grad_scale, m_hat_scale, v_hat_scale;
};
static_assert(sizeof(AdamWParams) == 72, "AdamWParams must match the C# struct");

__device__ __forceinline__ void adamw_one(const AdamWParams& q, float& p, float& m, float& v, float grad) {
    float g = q.grad_scale * grad;
    m = fmaf(q.beta1, m, (1.0f - q.beta1) * g);
    v = fmaf(q.beta2, v, (1.0f - q.beta2) * (g * g));
    float update = m * q.m_hat_scale / (sqrtf(v * q.v_hat_scale) + q.eps);
    p -= q.lr * fmaf(q.weight_decay, p, update);
}

extern "C" __global__ void adamw_update(const AdamWParams q) {
    i64 stride = (i64)gridDim.x * blockDim.x, start = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    i64 n4 = aligned16(q.param) && aligned16(q.grad) && aligned16(q.m) && aligned16(q.v) ? q.n / 4 : 0;
    for (i64 i = start; i < n4; i += stride) {
        float4 p = ((float4*)q.param)[i], m = ((float4*)q.m)[i], v = ((float4*)q.v)[i], g = ((const float4*)q.grad)[i];
        adamw_one(q, p.x, m.x, v.x, g.x);
        adamw_one(q, p.y, m.y, v.y, g.y);
        adamw_one(q, p.z, m.z, v.z, g.z);
        adamw_one(q, p.w, m.w, v.w, g.w);
        ((float4*)q.param)[i] = p; ((float4*)q.m)[i] = m; ((float4*)q.v)[i] = v;
    }
    for (i64 i = 4 * n4 + start; i < q.n; i += stride) adamw_one(q, q.param[i], q.m[i], q.v[i], q.grad[i]);
}
