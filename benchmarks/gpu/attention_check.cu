// attention_check.cu -- standalone GPU check and benchmark of the fused attention kernels
// ==========================================================================================
//
// Loads kernels/ptx/attention_forward.ptx and attention_backward.ptx through the driver JIT
// (cuModuleLoad), compiles kernels/cuda/attention_decode.cu in (it is included below), and
//   1. checks forward (out, LSE), backward (dq, dk, dv) and KV-cache decode against a float64
//      host reference on odd shapes with right padding, left padding (queries that see no key)
//      and random holes in the key mask;
//   2. times forward and backward at B=8, NH=12, T=1024, hs=64, causal (CUDA events, median of
//      50 reps) and prints TFLOP/s (causal FLOPs: forward 4*B*NH*T^2*hs/2, backward 2.5x).
// Exit status 0 only when every check passes. Build and run (from benchmarks/gpu):
//   nvcc -O2 -arch=sm_90 attention_check.cu -lcuda -o /tmp/attn && /tmp/attn ../../kernels/ptx
// Compare with attention_torch.py (PyTorch SDPA on the same shape).

#include <cuda.h>
#include <cuda_runtime.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../../kernels/cuda/attention_decode.cu"

static void check_cu(CUresult r, const char* what, int line)
{
    if (r != CUDA_SUCCESS)
    {
        const char* name = nullptr;
        cuGetErrorName(r, &name);
        fprintf(stderr, "line %d: %s failed: %s\n", line, what, name ? name : "?");
        exit(2);
    }
}
static void check_rt(cudaError_t r, const char* what, int line)
{
    if (r != cudaSuccess)
    {
        fprintf(stderr, "line %d: %s failed: %s\n", line, what, cudaGetErrorString(r));
        exit(2);
    }
}
#define CU(x) check_cu((x), #x, __LINE__)
#define RT(x) check_rt((x), #x, __LINE__)

// ---- parameter structs: byte layouts documented in the PTX headers ---------------------------
struct FwdParams
{
    uint64_t qkv, out, out2, lse, mask;
    int32_t T, C, NH;
    float scaleLog2;
};
static_assert(sizeof(FwdParams) == 56, "attention_forward params");
struct DotParams
{
    uint64_t o, dout, d;
    int32_t T, C, NH, ldo, BT, pad;
};
static_assert(sizeof(DotParams) == 48, "attention_backward_dot params");
struct BwdParams
{
    uint64_t qkv, dout, dqkv, lse, d, mask;
    int32_t T, C, NH;
    float scaleLog2, scale;
    int32_t pad;
};
static_assert(sizeof(BwdParams) == 72, "attention_backward params");
static_assert(sizeof(AttentionDecodeParams) == 64, "attention_decode params");

constexpr int HS = 64;

// splitmix64: small seeded generator (no <random>: nvcc 11.8 cannot parse libstdc++ 12's)
struct Rng
{
    uint64_t s;
    float uniform(float lo, float hi)
    {
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        return lo + (hi - lo) * (float)((z >> 40) * (1.0 / 16777216.0));
    }
};
constexpr float LOG2E = 1.4426950408889634f;

struct Kernels
{
    CUfunction fwd, dot, dkdv, dq;
};

template <class P>
static void launch(CUfunction f, dim3 grid, dim3 block, const P& p)
{
    void* args[] = {const_cast<P*>(&p)};
    CU(cuLaunchKernel(f, grid.x, grid.y, grid.z, block.x, block.y, block.z, 0, 0, args, nullptr));
}

// ---- device buffers -------------------------------------------------------------------------
struct Buf
{
    void* p = nullptr;
    size_t n = 0;
    explicit Buf(size_t bytes) : n(bytes) { RT(cudaMalloc(&p, bytes)); }
    ~Buf() { cudaFree(p); }
    uint64_t u() const { return (uint64_t)(uintptr_t)p; }
    template <class T> void up(const std::vector<T>& v) { RT(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice)); }
    template <class T> std::vector<T> down(size_t count) const
    {
        std::vector<T> v(count);
        RT(cudaMemcpy(v.data(), p, count * sizeof(T), cudaMemcpyDeviceToHost));
        return v;
    }
};

struct Problem
{
    int B, T, NH, C;
    std::vector<float> qkv, dout;
    std::vector<int> mask;
};

// ---- launch sequences (as Cuda/Attention.cs) ----------------------------------------------------
static void run_forward(const Kernels& k, const Problem& pr, const Buf& qkv, const Buf& out, uint64_t out2, const Buf& lse, uint64_t mask)
{
    FwdParams p{qkv.u(), out.u(), out2, lse.u(), mask, pr.T, pr.C, pr.NH, LOG2E / std::sqrt((float)HS)};
    launch(k.fwd, dim3((pr.T + 63) / 64, pr.NH, pr.B), dim3(128), p);
}

static void run_backward(const Kernels& k, const Problem& pr, const Buf& qkv, const Buf& out, const Buf& dout, const Buf& dqkv,
                         const Buf& lse, const Buf& dvec, uint64_t mask, float* ms = nullptr)
{
    DotParams dp{out.u(), dout.u(), dvec.u(), pr.T, pr.C, pr.NH, pr.C, pr.B * pr.T, 0};
    float s = 1.f / std::sqrt((float)HS);
    BwdParams bp{qkv.u(), dout.u(), dqkv.u(), lse.u(), dvec.u(), mask, pr.T, pr.C, pr.NH, s * LOG2E, s, 0};
    dim3 grid((pr.T + 63) / 64, pr.NH, pr.B);
    cudaEvent_t e[4];
    if (ms)
        for (auto& x : e) RT(cudaEventCreate(&x));
    if (ms) RT(cudaEventRecord(e[0]));
    launch(k.dot, dim3((pr.B * pr.T * pr.NH + 7) / 8), dim3(256), dp);
    if (ms) RT(cudaEventRecord(e[1]));
    launch(k.dkdv, grid, dim3(128), bp);
    if (ms) RT(cudaEventRecord(e[2]));
    launch(k.dq, grid, dim3(128), bp);
    if (ms)
    {
        RT(cudaEventRecord(e[3]));
        RT(cudaEventSynchronize(e[3]));
        for (int i = 0; i < 3; i++) RT(cudaEventElapsedTime(&ms[i], e[i], e[i + 1]));
        for (auto& x : e) RT(cudaEventDestroy(x));
    }
}

// ---- float64 reference ----------------------------------------------------------------------
struct Ref
{
    std::vector<double> out, lse, dqkv;
};

static Ref reference(const Problem& pr)
{
    const int B = pr.B, T = pr.T, NH = pr.NH, C = pr.C;
    const double scale = 1.0 / std::sqrt((double)HS);
    Ref r;
    r.out.assign((size_t)B * T * C, 0.0);
    r.lse.assign((size_t)B * NH * T, -INFINITY);
    r.dqkv.assign((size_t)B * T * 3 * C, 0.0);
    std::vector<double> P((size_t)T * T), dP((size_t)T * T), D(T);
    auto Q = [&](int b, int t, int h, int d) { return (double)pr.qkv[((size_t)b * T + t) * 3 * C + h * HS + d]; };
    auto K = [&](int b, int t, int h, int d) { return (double)pr.qkv[((size_t)b * T + t) * 3 * C + C + h * HS + d]; };
    auto V = [&](int b, int t, int h, int d) { return (double)pr.qkv[((size_t)b * T + t) * 3 * C + 2 * C + h * HS + d]; };
    auto G = [&](int b, int t, int h, int d) { return (double)pr.dout[((size_t)b * T + t) * C + h * HS + d]; };
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
        {
            for (int t = 0; t < T; t++)
            {
                double mx = -INFINITY;
                for (int s = 0; s <= t; s++)
                {
                    double v = -INFINITY;
                    if (pr.mask[(size_t)b * T + s])
                    {
                        v = 0;
                        for (int d = 0; d < HS; d++) v += Q(b, t, h, d) * K(b, s, h, d);
                        v *= scale;
                    }
                    P[(size_t)t * T + s] = v;
                    mx = std::max(mx, v);
                }
                double l = 0;
                for (int s = 0; s <= t; s++)
                {
                    double& p = P[(size_t)t * T + s];
                    p = std::isinf(p) ? 0.0 : std::exp(p - mx);
                    l += p;
                }
                for (int s = 0; s <= t; s++) P[(size_t)t * T + s] = l > 0 ? P[(size_t)t * T + s] / l : 0.0;
                for (int s = t + 1; s < T; s++) P[(size_t)t * T + s] = 0;
                if (l > 0) r.lse[((size_t)b * NH + h) * T + t] = mx + std::log(l);
                for (int d = 0; d < HS; d++)
                {
                    double o = 0;
                    for (int s = 0; s <= t; s++) o += P[(size_t)t * T + s] * V(b, s, h, d);
                    r.out[((size_t)b * T + t) * C + h * HS + d] = o;
                }
            }
            for (int t = 0; t < T; t++)
            {
                D[t] = 0;
                for (int d = 0; d < HS; d++) D[t] += G(b, t, h, d) * r.out[((size_t)b * T + t) * C + h * HS + d];
                for (int s = 0; s <= t; s++)
                {
                    double v = 0;
                    for (int d = 0; d < HS; d++) v += G(b, t, h, d) * V(b, s, h, d);
                    dP[(size_t)t * T + s] = v;
                }
            }
            for (int t = 0; t < T; t++)
                for (int s = 0; s <= t; s++)
                {
                    double p = P[(size_t)t * T + s];
                    if (p == 0) continue;
                    double dz = p * (dP[(size_t)t * T + s] - D[t]);
                    for (int d = 0; d < HS; d++)
                    {
                        r.dqkv[((size_t)b * T + t) * 3 * C + h * HS + d] += scale * dz * K(b, s, h, d);
                        r.dqkv[((size_t)b * T + s) * 3 * C + C + h * HS + d] += scale * dz * Q(b, t, h, d);
                        r.dqkv[((size_t)b * T + s) * 3 * C + 2 * C + h * HS + d] += p * G(b, t, h, d);
                    }
                }
        }
    return r;
}

static Problem make_problem(int B, int T, int NH, Rng& rng)
{
    Problem pr{B, T, NH, NH * HS, {}, {}, {}};
    pr.qkv.resize((size_t)B * T * 3 * pr.C);
    for (auto& x : pr.qkv) x = rng.uniform(-1.5f, 1.5f);
    pr.dout.resize((size_t)B * T * pr.C);
    for (auto& x : pr.dout) x = rng.uniform(-1.f, 1.f);
    pr.mask.assign((size_t)B * T, 1);
    for (int b = 0; b < B; b++)
    {
        int* m = &pr.mask[(size_t)b * T];
        if (b % 3 == 1 && T > 2)          // right padding
            for (int s = T - std::max(1, T / 4); s < T; s++) m[s] = 0;
        else if (b % 3 == 2 && T > 2)     // left padding (first rows see no key) and random holes
        {
            for (int s = 0; s < std::max(1, T / 5); s++) m[s] = 0;
            for (int s = 0; s < T; s++)
                if (rng.uniform(0.f, 1.f) < 0.1f) m[s] = 0;
        }
    }
    return pr;
}

// max |a - b| / max |b|, the denominator floored at floor_abs (parts of a gradient can cancel to ~0)
static double rel_err(const float* a, const double* b, size_t n, size_t stride, size_t width, double floor_abs, bool* nan)
{
    double num = 0, den = floor_abs;
    for (size_t i = 0; i < n; i++)
    {
        size_t idx = (i / width) * stride + i % width;
        if (!std::isfinite(a[idx])) *nan = true;
        num = std::max(num, std::fabs(a[idx] - b[idx]));
        den = std::max(den, std::fabs(b[idx]));
    }
    return num / std::max(den, 1e-30);
}

static int failures = 0, checks = 0;
static void report(const char* what, const Problem& pr, const char* extra, double err, double tol, bool nan = false)
{
    bool ok = err <= tol && !nan;
    failures += !ok;
    checks++;
    printf("%-9s B=%d T=%4d NH=%d %-26s max rel err %.3e  tol %.0e  %s\n", what, pr.B, pr.T, pr.NH, extra, err, tol, ok ? "pass" : "FAIL");
}

static void check_case(const Kernels& k, int B, int T, int NH, Rng& rng)
{
    Problem pr = make_problem(B, T, NH, rng);
    Ref ref = reference(pr);
    const int C = pr.C;
    const size_t nOut = (size_t)B * T * C, nQkv = nOut * 3, nL = (size_t)B * NH * T;
    Buf qkv(nQkv * 4), out(nOut * 4), out2(nOut * 4), lse(nL * 4), mask(pr.mask.size() * 4), dout(nOut * 4), dqkv(nQkv * 4), dvec(nL * 4);
    qkv.up(pr.qkv);
    mask.up(pr.mask);
    dout.up(pr.dout);
    RT(cudaMemset(dqkv.p, 0xFF, nQkv * 4));   // NaN: every element must be overwritten

    // ---- forward
    run_forward(k, pr, qkv, out, out2.u(), lse, mask.u());
    RT(cudaDeviceSynchronize());
    auto o = out.down<float>(nOut), o2 = out2.down<float>(nOut), l = lse.down<float>(nL);
    bool nan = false;
    report("forward", pr, "out", rel_err(o.data(), ref.out.data(), nOut, 1, 1, 0, &nan), 2e-2, nan || o != o2);
    double lerr = 0;
    bool lbad = false;
    for (size_t i = 0; i < nL; i++)
    {
        if (std::isinf(ref.lse[i])) lbad |= !(std::isinf(l[i]) && l[i] < 0);
        else lerr = std::max(lerr, std::fabs(l[i] - ref.lse[i]));
    }
    report("forward", pr, "lse (abs; -inf rows)", lerr, 2e-2, lbad);

    // ---- backward
    run_backward(k, pr, qkv, out, dout, dqkv, lse, dvec, mask.u());
    RT(cudaDeviceSynchronize());
    auto g = dqkv.down<float>(nQkv);
    double gmax = 0;
    for (double x : ref.dqkv) gmax = std::max(gmax, std::fabs(x));
    const char* names[3] = {"dq", "dk", "dv"};
    for (int part = 0; part < 3; part++)
    {
        nan = false;
        double e = rel_err(g.data() + part * C, ref.dqkv.data() + part * C, nOut, 3 * C, C, 0.1 * gmax, &nan);
        report("backward", pr, names[part], e, 3e-2, nan);
    }

    // ---- decode against a KV cache: prefill (past = 0) and one new token (past = T-1)
    const int maxT = T + 5;
    for (int past : {0, T - 1})
    {
        const int Tq = T - past;
        std::vector<float> kc((size_t)B * NH * maxT * HS, NAN), vc = kc, newqkv((size_t)B * Tq * 3 * C);
        for (int b = 0; b < B; b++)
        {
            for (int h = 0; h < NH; h++)
                for (int s = 0; s < past; s++)
                    for (int d = 0; d < HS; d++)
                    {
                        size_t src = ((size_t)b * T + s) * 3 * C + h * HS + d, dst = (((size_t)b * NH + h) * maxT + s) * HS + d;
                        kc[dst] = pr.qkv[src + C];
                        vc[dst] = pr.qkv[src + 2 * C];
                    }
            std::copy(pr.qkv.begin() + ((size_t)b * T + past) * 3 * C, pr.qkv.begin() + ((size_t)b * T + T) * 3 * C,
                      newqkv.begin() + (size_t)b * Tq * 3 * C);
        }
        std::vector<int> m2((size_t)B * maxT, 1);
        for (int b = 0; b < B; b++) std::copy(&pr.mask[(size_t)b * T], &pr.mask[(size_t)b * T] + T, &m2[(size_t)b * maxT]);
        Buf dk(kc.size() * 4), dv(vc.size() * 4), dq(newqkv.size() * 4), dm(m2.size() * 4), dout2((size_t)B * Tq * C * 4);
        dk.up(kc);
        dv.up(vc);
        dq.up(newqkv);
        dm.up(m2);
        AttentionDecodeParams p{(const float*)dq.p, (float*)dout2.p, (float*)dk.p, (float*)dv.p, (const int*)dm.p, past, Tq, C, NH, maxT,
                                1.f / std::sqrt((float)HS)};
        attention_decode<<<dim3(NH, B), 128>>>(p);
        RT(cudaGetLastError());
        RT(cudaDeviceSynchronize());
        auto od = dout2.down<float>((size_t)B * Tq * C);
        auto kd = dk.down<float>(kc.size());
        double e = 0, den = 1e-30;
        nan = false;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Tq; i++)
                for (int c = 0; c < C; c++)
                {
                    double rv = ref.out[((size_t)b * T + past + i) * C + c];
                    float gv = od[((size_t)b * Tq + i) * C + c];
                    nan |= !std::isfinite(gv);
                    e = std::max(e, std::fabs(gv - rv));
                    den = std::max(den, std::fabs(rv));
                }
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int i = 0; i < Tq; i++)
                    for (int d = 0; d < HS; d++)
                        nan |= kd[(((size_t)b * NH + h) * maxT + past + i) * HS + d] != pr.qkv[((size_t)b * T + past + i) * 3 * C + C + h * HS + d];
        char what[64];
        snprintf(what, sizeof what, "out past=%d Tq=%d", past, Tq);
        report("decode", pr, what, e / den, 1e-4, nan);
        if (T == 1) break;
    }
}

static float median(std::vector<float> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

static void bench(const Kernels& k)
{
    const int B = 8, NH = 12, T = 1024, C = NH * HS, reps = 50;
    Rng rng{7};
    Problem pr{B, T, NH, C, {}, {}, {}};
    pr.qkv.resize((size_t)B * T * 3 * C);
    for (auto& x : pr.qkv) x = rng.uniform(-1.f, 1.f);
    pr.dout.resize((size_t)B * T * C);
    for (auto& x : pr.dout) x = rng.uniform(-1.f, 1.f);
    const size_t nOut = (size_t)B * T * C, nL = (size_t)B * NH * T;
    Buf qkv(nOut * 12), out(nOut * 4), lse(nL * 4), dout(nOut * 4), dqkv(nOut * 12), dvec(nL * 4);
    qkv.up(pr.qkv);
    dout.up(pr.dout);
    cudaEvent_t e0, e1;
    RT(cudaEventCreate(&e0));
    RT(cudaEventCreate(&e1));
    std::vector<float> tf, tb, tdot, tdkdv, tdq;
    for (int r = 0; r < reps + 5; r++)
    {
        RT(cudaEventRecord(e0));
        run_forward(k, pr, qkv, out, 0, lse, 0);
        RT(cudaEventRecord(e1));
        RT(cudaEventSynchronize(e1));
        float ms;
        RT(cudaEventElapsedTime(&ms, e0, e1));
        float parts[3];
        run_backward(k, pr, qkv, out, dout, dqkv, lse, dvec, 0, parts);
        if (r < 5) continue;
        tf.push_back(ms);
        tdot.push_back(parts[0]);
        tdkdv.push_back(parts[1]);
        tdq.push_back(parts[2]);
        tb.push_back(parts[0] + parts[1] + parts[2]);
    }
    const double fwdFlops = 4.0 * B * NH * (double)T * T * HS / 2, bwdFlops = 2.5 * fwdFlops;
    printf("\nbenchmark B=%d NH=%d T=%d hs=%d causal, fp32 in/out, bf16 tensor-core operands (median of %d)\n", B, NH, T, HS, reps);
    printf("  ours forward            %8.3f ms  %7.1f TFLOP/s\n", median(tf), fwdFlops / (median(tf) * 1e-3) / 1e12);
    printf("  ours backward           %8.3f ms  %7.1f TFLOP/s   (dot %.3f + dkdv %.3f + dq %.3f ms)\n", median(tb),
           bwdFlops / (median(tb) * 1e-3) / 1e12, median(tdot), median(tdkdv), median(tdq));
    printf("  ours forward+backward   %8.3f ms  %7.1f TFLOP/s\n", median(tf) + median(tb),
           (fwdFlops + bwdFlops) / ((median(tf) + median(tb)) * 1e-3) / 1e12);
}

int main(int argc, char** argv)
{
    std::string dir = argc > 1 ? argv[1] : "../../kernels/ptx";
    RT(cudaFree(0));   // create the primary context; the driver calls below share it
    CU(cuInit(0));
    cudaDeviceProp prop;
    RT(cudaGetDeviceProperties(&prop, 0));
    printf("device: %s (sm_%d%d), ptx from %s\n", prop.name, prop.major, prop.minor, dir.c_str());
    CUmodule mf, mb;
    CU(cuModuleLoad(&mf, (dir + "/attention_forward.ptx").c_str()));
    CU(cuModuleLoad(&mb, (dir + "/attention_backward.ptx").c_str()));
    Kernels k;
    CU(cuModuleGetFunction(&k.fwd, mf, "attention_forward"));
    CU(cuModuleGetFunction(&k.dot, mb, "attention_backward_dot"));
    CU(cuModuleGetFunction(&k.dkdv, mb, "attention_backward_dkdv"));
    CU(cuModuleGetFunction(&k.dq, mb, "attention_backward_dq"));
    const char* names[3] = {"attention_forward", "attention_backward_dkdv", "attention_backward_dq"};
    CUfunction fs[3] = {k.fwd, k.dkdv, k.dq};
    for (int i = 0; i < 3; i++)
    {
        const char* name = names[i];
        CUfunction f = fs[i];
        int regs, smem;
        CU(cuFuncGetAttribute(&regs, CU_FUNC_ATTRIBUTE_NUM_REGS, f));
        CU(cuFuncGetAttribute(&smem, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f));
        int blocks;
        CU(cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, f, 128, 0));
        printf("  %-24s %3d registers, %5d B shared, %d CTAs/SM\n", name, regs, smem, blocks);
    }

    Rng rng{1234};
    struct Shape { int B, T, NH; };
    for (Shape s : {Shape{1, 1, 2}, Shape{2, 7, 3}, Shape{3, 97, 2}, Shape{2, 257, 3}, Shape{3, 257, 2}, Shape{1, 64, 2}, Shape{3, 130, 2}})
        check_case(k, s.B, s.T, s.NH, rng);
    printf("%d passed, %d failed\n", checks - failures, failures);
    bench(k);
    return failures ? 1 : 0;
}
