// embedding.cu — token + learned position embedding, forward:
//   out[n, :] = wte[tokens[n], :] + wpe[positions[n], :]
// Backward (dwte[tokens[n]] += dout[n], dwpe[positions[n]] += dout[n]; parameter gradients, ACCUMULATE)
// is the deterministic scatter-add in gather_rows.cu, run once for tokens and once for positions.
// An id outside its table cannot be reported from a kernel without a host sync; such a row is written as
// NaN so the loss shows it (the CPU backend checks ids on the host and throws).
// Launch: one block of 128 threads per row n (grid N); float4 when C % 4 == 0 and tables are aligned.
#include "common.cuh"

struct EmbeddingParams {         // sizeof == 56
    float* out;
    const int* tokens;
    const int* positions;
    const float* wte;
    const float* wpe;
    int N, C, V, maxT;
};
static_assert(sizeof(EmbeddingParams) == 56, "EmbeddingParams must match the C# struct");

extern "C" __global__ void embedding_forward(const EmbeddingParams p) {
    int n = blockIdx.x;
    int t = p.tokens[n], pos = p.positions[n];
    float* o = p.out + (i64)n * p.C;
    if (t < 0 || t >= p.V || pos < 0 || pos >= p.maxT) {
        for (int i = threadIdx.x; i < p.C; i += blockDim.x) o[i] = __int_as_float(0x7fc00000);
        return;
    }
    const float* a = p.wte + (i64)t * p.C;
    const float* b = p.wpe + (i64)pos * p.C;
    if ((p.C & 3) == 0 && aligned16(p.out) && aligned16(p.wte) && aligned16(p.wpe)) {
        for (int i = threadIdx.x; i < p.C / 4; i += blockDim.x) {
            float4 x = ((const float4*)a)[i], y = ((const float4*)b)[i];
            ((float4*)o)[i] = make_float4(x.x + y.x, x.y + y.y, x.z + y.z, x.w + y.w);
        }
    } else {
        for (int i = threadIdx.x; i < p.C; i += blockDim.x) o[i] = a[i] + b[i];
    }
}
