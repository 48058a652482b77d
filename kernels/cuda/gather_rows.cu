// gather_rows.cu — row gather and the deterministic row scatter-add.
//   gather_rows_forward   out[m, :] = inp[rows[m], :]                 (rows outside [0, R) give NaN rows)
//   scatter_add_rows      dst[ids[m], :] += src[m, :] for m in [0, M)  ACCUMULATES
// scatter_add_rows serves GatherRowsBackward (dinp is the residual stream's gradient) and EmbeddingBackward
// (dwte/dwpe are parameter gradients): both accumulate. Deterministic without sorting or atomics: block m
// first checks whether an earlier m' < m has the same id; if so it does nothing. Otherwise it "owns" the
// id, sums src rows of every m'' ≥ m with that id in ascending m'' order, and adds the sum to dst once.
// Cost: O(M) id comparisons per block (ids are read in tiles from L1/L2), O(M·C) adds overall.
// Ids outside [0, R) are skipped (a kernel cannot throw; the CPU backend checks them on the host).
// Launch: gather_rows_forward one block of 128 threads per m; scatter_add_rows one block of
// SCATTER_THREADS per m, each thread owning channels c ≡ tid (mod SCATTER_THREADS).
#include "common.cuh"

#define SCATTER_THREADS 256

struct GatherParams {            // sizeof == 40
    float* out;                  // forward: out;  scatter: dst
    const float* inp;            // forward: inp;  scatter: src
    const int* ids;              // rows / tokens / positions
    int M, C, R, pad;            // R = rows in inp (forward) or dst (scatter)
};
static_assert(sizeof(GatherParams) == 40, "GatherParams must match the C# struct");

extern "C" __global__ void gather_rows_forward(const GatherParams p) {
    int m = blockIdx.x, r = p.ids[m];
    float* o = p.out + (i64)m * p.C;
    bool ok = r >= 0 && r < p.R;
    for (int i = threadIdx.x; i < p.C; i += blockDim.x) o[i] = ok ? p.inp[(i64)r * p.C + i] : __int_as_float(0x7fc00000);
}

#define SCATTER_MAX_PER_THREAD 8   /* channels per thread held in registers: C ≤ 2048 in one sweep */

extern "C" __global__ void scatter_add_rows(const GatherParams p) {
    __shared__ unsigned int matches[SCATTER_THREADS / 32];
    int m = blockIdx.x, id = p.ids[m];
    if (id < 0 || id >= p.R) return;
    // Is m the first occurrence of id? (uniform branch: every thread sees the same __syncthreads_or)
    for (int base = 0; base < m; base += blockDim.x) {
        int j = base + threadIdx.x;
        if (__syncthreads_or(j < m && p.ids[j] == id)) return;
    }
    // Owner: sweep channels in register-sized slices; within a slice walk m'' ≥ m in order.
    for (int c0 = 0; c0 < p.C; c0 += SCATTER_THREADS * SCATTER_MAX_PER_THREAD) {
        float acc[SCATTER_MAX_PER_THREAD];
        for (int k = 0; k < SCATTER_MAX_PER_THREAD; k++) acc[k] = 0.0f;
        for (int base = m; base < p.M; base += blockDim.x) {
            int j = base + threadIdx.x;
            unsigned int ballot = __ballot_sync(RLHF_FULL_MASK, j < p.M && p.ids[j] == id);
            if ((threadIdx.x & 31) == 0) matches[threadIdx.x >> 5] = ballot;
            __syncthreads();
            for (int w = 0; w < SCATTER_THREADS / 32; w++) {
                unsigned int bits = matches[w];
                while (bits) {
                    int row = base + w * 32 + __ffs(bits) - 1;
                    bits &= bits - 1;
                    const float* s = p.inp + (i64)row * p.C;
                    for (int k = 0; k < SCATTER_MAX_PER_THREAD; k++) {
                        int c = c0 + k * SCATTER_THREADS + threadIdx.x;
                        if (c < p.C) acc[k] += s[c];
                    }
                }
            }
            __syncthreads();
        }
        float* d = p.out + (i64)id * p.C;
        for (int k = 0; k < SCATTER_MAX_PER_THREAD; k++) {
            int c = c0 + k * SCATTER_THREADS + threadIdx.x;
            if (c < p.C) d[c] += acc[k];
        }
    }
}
