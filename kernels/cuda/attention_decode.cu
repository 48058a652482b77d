// attention_decode.cu -- attention of new tokens against a KV cache (generation)
// ==========================================================================================
//
// Computes IBackend.AttentionDecodeForward: writes k and v of the Tq new positions from
// qkv[B,Tq,3C] into kCache/vCache[B,NH,maxT,64] at rows [past, past+Tq), then attends query i
// (absolute position past+i) to cached keys s <= past+i with keyMask[b,s] != 0; out[B,Tq,C]
// (0 for a query that sees no key). Same numbers as attention_forward.ptx up to rounding: this
// kernel is fp32 throughout (no bf16 staging), since it is bound by reading the cache, not by
// arithmetic: one pass over K and V per (query, head) in 256-byte rows.
//
// Launch:  grid = (NH, B, 1), block = (128, 1, 1): the CTA first appends its head's Tq new k/v
//          rows, synchronizes, then each of its 4 warps takes queries i = warp, warp+4, ...
//          A warp walks the visible cache in chunks of 32 keys: lane j scores key s0+j (full
//          64-dim dot product from a float4 row read), an online softmax keeps the running max and
//          sum, and for P.V each lane owns head dims 2*lane, 2*lane+1 (coalesced float2 rows of V).
// Shared:  q of each warp (4 x 64 floats) and the chunk's probabilities (4 x 32 floats): 1.5 KiB.
// Registers: ~40 per thread. Head size fixed at 64 (C = 64*NH), like the PTX kernels.
// Parameters: one 64-byte struct, mirrored by AttentionDecodeParams in Cuda/Attention.cs.
// Self-contained (no includes) for NVRTC; the GPU harness benchmarks/gpu/attention_check.cu
// includes it directly.

struct AttentionDecodeParams
{
    const float* qkv;    // +0  [B,Tq,3C]
    float* out;          // +8  [B,Tq,C]
    float* kcache;       // +16 [B,NH,maxT,64]
    float* vcache;       // +24 [B,NH,maxT,64]
    const int* keyMask;  // +32 [B,maxT], nullptr = every key visible
    int past;            // +40 positions already in the cache
    int Tq;              // +44 new positions
    int C;               // +48
    int NH;              // +52
    int maxT;            // +56 cache capacity
    float scale;         // +60 1/sqrt(64)
};
static_assert(sizeof(AttentionDecodeParams) == 64, "mirrored by AttentionDecodeParams in Cuda/Attention.cs");

extern "C" __global__ void __launch_bounds__(128) attention_decode(const AttentionDecodeParams p)
{
    constexpr int HS = 64;
    const float NEG_INF = __int_as_float(0xff800000);   // no <math.h> under NVRTC
    const int h = blockIdx.x, b = blockIdx.y;
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const long C3 = 3L * p.C;
    float* kc = p.kcache + ((long)b * p.NH + h) * p.maxT * HS;
    float* vc = p.vcache + ((long)b * p.NH + h) * p.maxT * HS;

    // ---- append the new k, v rows of this head (visible to the whole CTA after the barrier)
    for (int idx = threadIdx.x; idx < p.Tq * HS; idx += blockDim.x)
    {
        int i = idx / HS, d = idx % HS;
        const float* src = p.qkv + ((long)b * p.Tq + i) * C3 + h * HS + d;
        kc[(long)(p.past + i) * HS + d] = src[p.C];
        vc[(long)(p.past + i) * HS + d] = src[2 * p.C];
    }
    __syncthreads();

    __shared__ __align__(16) float qs[4][HS];
    __shared__ float ps[4][32];
    const int* mrow = p.keyMask ? p.keyMask + (long)b * p.maxT : nullptr;

    for (int i = warp; i < p.Tq; i += 4)
    {
        const int pos = p.past + i;
        const float* q = p.qkv + ((long)b * p.Tq + i) * C3 + h * HS;
        qs[warp][lane] = q[lane] * p.scale;
        qs[warp][lane + 32] = q[lane + 32] * p.scale;
        __syncwarp();

        float m = NEG_INF, l = 0.f, acc0 = 0.f, acc1 = 0.f;
        for (int s0 = 0; s0 <= pos; s0 += 32)
        {
            // ---- scores of keys s0 .. s0+31, one per lane
            const int s = s0 + lane;
            const bool visible = s <= pos && (mrow == nullptr || mrow[s] != 0);
            float score = NEG_INF;
            if (visible)
            {
                const float4* kr = reinterpret_cast<const float4*>(kc + (long)s * HS);
                const float4* qr = reinterpret_cast<const float4*>(qs[warp]);
                float dot = 0.f;
#pragma unroll
                for (int d = 0; d < HS / 4; d++)
                {
                    float4 kv = kr[d], qv = qr[d];
                    dot += kv.x * qv.x + kv.y * qv.y + kv.z * qv.z + kv.w * qv.w;
                }
                score = dot;
            }
            // ---- online softmax over the chunk
            float mx = score;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
            const float mnew = fmaxf(m, mx);
            if (mnew == NEG_INF) continue;                 // nothing visible yet (warp-uniform)
            const float pr = visible ? __expf(score - mnew) : 0.f;
            const float alpha = __expf(m - mnew);            // 0 while m is -inf
            float sum = pr;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
            l = l * alpha + sum;
            acc0 *= alpha;
            acc1 *= alpha;
            m = mnew;
            // ---- P.V: lane owns dims 2*lane, 2*lane+1
            ps[warp][lane] = pr;
            __syncwarp();
            const int n = min(32, pos + 1 - s0);
            for (int j = 0; j < n; j++)
            {
                const float pj = ps[warp][j];
                if (pj != 0.f)
                {
                    const float2 v = reinterpret_cast<const float2*>(vc + (long)(s0 + j) * HS)[lane];
                    acc0 += pj * v.x;
                    acc1 += pj * v.y;
                }
            }
            __syncwarp();
        }
        const float inv = l > 0.f ? 1.f / l : 0.f;
        reinterpret_cast<float2*>(p.out + ((long)b * p.Tq + i) * p.C + h * HS)[lane] = make_float2(acc0 * inv, acc1 * inv);
        __syncwarp();
    }
}
