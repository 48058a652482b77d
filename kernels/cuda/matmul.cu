// matmul.cu — our own GEMM (used when cuBLASLt cannot be loaded) and the bias-gradient reduction.
//   matmul_tf32   out[i, j] = Σₖ A(i, k)·B(j, k) (+ out[i, j] when accumulate) (+ bias[j] when bias != null)
//                 A(i, k) = a[i·sAi + k·sAk], B(j, k) = b[j·sBj + k·sBk]; out is row-major [M, Nn].
//                 Strides let one kernel do all three products of a linear layer (row-major, W [OC, C]):
//                   forward   out = inp·Wᵀ + bias     M=N,  Nn=OC, K=C
//                   dinp      (+)= dout·W             M=N,  Nn=C,  K=OC   (accumulate when asked)
//                   dweight   += doutᵀ·inp            M=OC, Nn=C,  K=N    (parameter: always accumulates)
//                 Tensor cores: mma.sync.m16n8k8 TF32 (inputs rounded to TF32 with cvt.rna, fp32 accumulate).
//                 Block tile 64×64×16, 4 warps in 2×2, each a 32×32 warp tile (2×4 mma tiles). Shared rows
//                 are padded to 20 floats so fragment reads are bank-conflict free. Single-buffered: this
//                 is the fallback path, correct for any M, Nn, K; cuBLASLt is the fast path.
//                 Launch: grid (ceil(Nn/64), ceil(M/64)), block 128, static shared 10 KiB.
//   dbias_partial + dbias_finish   dbias[j] += Σᵢ dout[i, j]  (parameter gradient, ACCUMULATES). Deterministic:
//                 per-chunk column sums (DB_CHUNK_ROWS rows, fixed tree) then chunks added in order.
//                 Launch: partial block (32, 8), grid (ceil(Nn/32), ceil(M/DB_CHUNK_ROWS)); finish 1-D × 256.
#include "common.cuh"

#define BM 64
#define BN 64
#define BK 16
#define PAD 4
#define DB_CHUNK_ROWS 64

struct MatmulParams {            // sizeof == 80
    float* out;
    const float* a;
    const float* b;
    const float* bias;           // may be null
    i64 sAi, sAk, sBj, sBk;
    int M, Nn, K, accumulate;
};
static_assert(sizeof(MatmulParams) == 80, "MatmulParams must match the C# struct");

struct DbiasParams {             // sizeof == 32
    float* dbias;
    const float* dout;           // [M, Nn]
    float* partials;             // scratch [ceil(M/DB_CHUNK_ROWS), Nn]
    int M, Nn;
};
static_assert(sizeof(DbiasParams) == 32, "DbiasParams must match the C# struct");

__device__ __forceinline__ u32 to_tf32(float x) {
    u32 r;
    asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(r) : "f"(x));
    return r;
}

__device__ __forceinline__ void mma_tf32(float* d, const u32* a, const u32* b) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// Loads a 64×16 tile X(row, k) (rows r0.., k k0..) into s[row][k] as TF32 bits; zero outside [R, K).
__device__ __forceinline__ void load_tile(u32 (*s)[BK + PAD], const float* x, i64 s_row, i64 s_k, int r0, int R, int k0, int K) {
    bool k_contiguous = s_k == 1;
    for (int e = threadIdx.x; e < BM * BK; e += blockDim.x) {
        int row = k_contiguous ? e / BK : e % BM;
        int k = k_contiguous ? e % BK : e / BM;
        int gr = r0 + row, gk = k0 + k;
        float v = gr < R && gk < K ? x[gr * s_row + gk * s_k] : 0.0f;
        s[row][k] = to_tf32(v);
    }
}

extern "C" __global__ void matmul_tf32(const MatmulParams p) {
    __shared__ u32 As[BM][BK + PAD];
    __shared__ u32 Bs[BN][BK + PAD];
    int i0 = blockIdx.y * BM, j0 = blockIdx.x * BN;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
    float acc[2][4][4];
    for (int a = 0; a < 2; a++) for (int b = 0; b < 4; b++) for (int c = 0; c < 4; c++) acc[a][b][c] = 0.0f;

    for (int k0 = 0; k0 < p.K; k0 += BK) {
        load_tile(As, p.a, p.sAi, p.sAk, i0, p.M, k0, p.K);
        load_tile(Bs, p.b, p.sBj, p.sBk, j0, p.Nn, k0, p.K);
        __syncthreads();
        for (int kk = 0; kk < BK; kk += 8) {
            u32 af[2][4], bf[4][2];
            for (int mt = 0; mt < 2; mt++) {
                int r = wm + mt * 16 + g;
                af[mt][0] = As[r][kk + t];
                af[mt][1] = As[r + 8][kk + t];
                af[mt][2] = As[r][kk + t + 4];
                af[mt][3] = As[r + 8][kk + t + 4];
            }
            for (int nt = 0; nt < 4; nt++) {
                int c = wn + nt * 8 + g;
                bf[nt][0] = Bs[c][kk + t];
                bf[nt][1] = Bs[c][kk + t + 4];
            }
            for (int mt = 0; mt < 2; mt++)
                for (int nt = 0; nt < 4; nt++) mma_tf32(acc[mt][nt], af[mt], bf[nt]);
        }
        __syncthreads();
    }
    for (int mt = 0; mt < 2; mt++)
        for (int nt = 0; nt < 4; nt++)
            for (int h = 0; h < 4; h++) {
                int i = i0 + wm + mt * 16 + g + (h >= 2 ? 8 : 0);
                int j = j0 + wn + nt * 8 + 2 * t + (h & 1);
                if (i >= p.M || j >= p.Nn) continue;
                float v = acc[mt][nt][h];
                if (p.bias) v += p.bias[j];
                float* o = p.out + (i64)i * p.Nn + j;
                *o = p.accumulate ? *o + v : v;
            }
}

extern "C" __global__ void dbias_partial(const DbiasParams p) {
    __shared__ float s[8][33];
    int j = blockIdx.x * 32 + threadIdx.x, chunk = blockIdx.y;
    int i0 = chunk * DB_CHUNK_ROWS, i1 = min(p.M, i0 + DB_CHUNK_ROWS);
    float acc = 0.0f;
    if (j < p.Nn)
        for (int i = i0 + threadIdx.y; i < i1; i += blockDim.y) acc += p.dout[(i64)i * p.Nn + j];
    s[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && j < p.Nn) {
        for (int y = 1; y < blockDim.y; y++) acc += s[y][threadIdx.x];
        p.partials[(i64)chunk * p.Nn + j] = acc;
    }
}

extern "C" __global__ void dbias_finish(const DbiasParams p) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= p.Nn) return;
    int chunks = (p.M + DB_CHUNK_ROWS - 1) / DB_CHUNK_ROWS;
    float acc = 0.0f;
    for (int c = 0; c < chunks; c++) acc += p.partials[(i64)c * p.Nn + j];
    p.dbias[j] += acc;
}
