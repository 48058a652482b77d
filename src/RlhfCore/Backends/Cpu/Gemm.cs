using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// Cache-blocked, register-tiled fp32 GEMM (the GotoBLAS/BLIS scheme):
/// <c>C[M, N] = (accumulate ? C : 0) + A[M, K] · B[K, N] (+ bias[N] per row)</c>, where A and B have
/// arbitrary strides (so A·Bᵀ, A·B and Aᵀ·B are the same code), C is row-major with stride ldc.
/// <para>
/// The smaller of the two operands (by the output dimension it spans) is packed once into a scratch
/// buffer shared by all threads; the output is then split into blocks along the other dimension, one
/// task per block, and each task packs its own block of the larger operand per K block of
/// <see cref="KC"/>, so it is packed exactly once, by the core that then uses it from its L2.
/// </para>
/// <para>
/// Deterministic: every element of C is a fixed chain — within a K block a fused multiply-add chain in
/// k order, the K blocks added to C in order — whatever the thread count or which thread ran which task.
/// </para>
/// </summary>
internal static unsafe class Gemm
{
    /// <summary>Rows of the register tile (broadcast from packed A).</summary>
    public const int MR = 8;

    /// <summary>Columns of the register tile (two Vector512 of packed B).</summary>
    public const int NR = 32;

    /// <summary>K block: an NR×KC B panel (32 KB) stays in L1 while the MR×KC A panels stream from L2.</summary>
    public const int KC = 256;

    /// <summary>Cap on the shared packed operand (8 MB); larger problems are done in chunks along M (or N) and K.</summary>
    public const int DefaultSharedCapFloats = 2 << 20;

    // A task's private block: up to 8 B panels (KC×256, 256 KB) or 16 A panels (128×KC, 128 KB), so it
    // stays in L2; aim for at least four tasks per thread so dynamic claiming balances the cores.
    private const int MaxPanelsPerTaskN = 8;
    private const int MaxPanelsPerTaskM = 16;
    private const int TasksPerThread = 4;
    private const int PrivateFloats = KC * MaxPanelsPerTaskN * NR;

    [ThreadStatic] private static float[]? t_private;
    [ThreadStatic] private static float[]? t_shared;

    /// <summary>
    /// C[M, N] = (accumulate ? C : 0) + A·B (+ bias[n] when bias is not null). Element (m, k) of A is at
    /// a[m·rsA + k·csA], element (k, n) of B at b[k·rsB + n·csB], element (m, n) of C at c[m·ldc + n].
    /// <paramref name="sharedCapFloats"/> bounds the shared packing buffer (tests lower it to exercise chunking).
    /// </summary>
    public static void Run(WorkerPool pool, int M, int N, int K,
        float* a, nint rsA, nint csA, float* b, nint rsB, nint csB, float* c, nint ldc, bool accumulate, float* bias,
        int sharedCapFloats = DefaultSharedCapFloats)
    {
        if (M <= 0 || N <= 0) return;
        if (K <= 0)
        {
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++)
                {
                    float v = accumulate ? c[m * ldc + n] : 0f;
                    c[m * ldc + n] = bias != null ? v + bias[n] : v;
                }
            return;
        }
        var g = new GemmArgs
        {
            A = a, RsA = rsA, CsA = csA, B = b, RsB = rsB, CsB = csB, C = c, Ldc = ldc,
            Accumulate = accumulate, Bias = bias, K = K, SplitN = N >= M,
        };
        var pack = new PackSharedJob();
        var compute = new ComputeJob();
        if (g.SplitN)
        {
            // A is shared: chunks of rows × K; tasks are column blocks over all of N.
            int mChunk = Math.Min(M, Math.Max(MR, sharedCapFloats / KC / MR * MR));
            int nPanels = Ceil(N, NR);
            g.TaskWidth = PanelsPerTask(nPanels, pool.ThreadCount, MaxPanelsPerTaskN) * NR;
            g.N0 = 0; g.Nc = N;
            for (int m0 = 0; m0 < M; m0 += mChunk)
            {
                g.M0 = m0; g.Mc = Math.Min(mChunk, M - m0);
                int kChunk = Math.Max(KC, sharedCapFloats / (Ceil(g.Mc, MR) * MR) / KC * KC);
                for (int k0 = 0; k0 < K; k0 += kChunk)
                {
                    g.K0 = k0; g.Kc = Math.Min(kChunk, K - k0);
                    g.Shared = Scratch(ref t_shared, (long)Ceil(g.Mc, MR) * MR * g.Kc);
                    pack.G = g; pool.For(Ceil(g.Mc, MR), ref pack);
                    compute.G = g; pool.For(Ceil(N, g.TaskWidth), ref compute);
                }
            }
        }
        else
        {
            // B is shared: chunks of columns × K; tasks are row blocks over all of M.
            int nChunk = Math.Min(N, Math.Max(NR, sharedCapFloats / KC / NR * NR));
            int mPanels = Ceil(M, MR);
            g.TaskWidth = PanelsPerTask(mPanels, pool.ThreadCount, MaxPanelsPerTaskM) * MR;
            g.M0 = 0; g.Mc = M;
            for (int n0 = 0; n0 < N; n0 += nChunk)
            {
                g.N0 = n0; g.Nc = Math.Min(nChunk, N - n0);
                int kChunk = Math.Max(KC, sharedCapFloats / (Ceil(g.Nc, NR) * NR) / KC * KC);
                for (int k0 = 0; k0 < K; k0 += kChunk)
                {
                    g.K0 = k0; g.Kc = Math.Min(kChunk, K - k0);
                    g.Shared = Scratch(ref t_shared, (long)Ceil(g.Nc, NR) * NR * g.Kc);
                    pack.G = g; pool.For(Ceil(g.Nc, NR), ref pack);
                    compute.G = g; pool.For(Ceil(M, g.TaskWidth), ref compute);
                }
            }
        }
    }

    private static int Ceil(int x, int d) => (x + d - 1) / d;

    /// <summary>
    /// Panels per task: at most <paramref name="max"/> and small enough for about TasksPerThread tasks per
    /// thread; among those, the largest that minimizes the panels the busiest thread gets (72 panels on 2
    /// threads: 12 tasks of 6, not 9 tasks of 8 that leave one thread a task behind).
    /// </summary>
    private static int PanelsPerTask(int panels, int threads, int max)
    {
        int cap = Math.Clamp(Ceil(panels, TasksPerThread * threads), 1, max);
        int best = cap;
        long bestWork = long.MaxValue;
        for (int p = cap; p >= 1; p--)
        {
            long work = (long)Ceil(Ceil(panels, p), threads) * p;
            if (work < bestWork) { bestWork = work; best = p; }
        }
        return best;
    }

    /// <summary>
    /// A 64-byte-aligned scratch buffer of at least <paramref name="floats"/>, kept per thread and grown on
    /// demand: a pinned managed array, so it is reused across calls and freed with its thread.
    /// </summary>
    private static float* Scratch(ref float[]? buffer, long floats)
    {
        if (buffer == null || buffer.Length < floats + 16)
            buffer = GC.AllocateUninitializedArray<float>(checked((int)(floats + 16)), pinned: true);
        nint p = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (float*)((p + 63) & ~(nint)63);
    }

    /// <summary>One chunk of a GEMM: the operands, which one is shared, and the chunk's ranges.</summary>
    private struct GemmArgs
    {
        public float* A, B, C, Bias, Shared;
        public nint RsA, CsA, RsB, CsB, Ldc;
        public bool Accumulate, SplitN;
        public int K, TaskWidth;
        public int M0, Mc, N0, Nc, K0, Kc; // the chunk: rows [M0, M0+Mc), columns [N0, N0+Nc), k [K0, K0+Kc)

        /// <summary>Packs shared panel <paramref name="p"/> (of A when SplitN, else of B) for every K block of the chunk.</summary>
        public readonly void PackShared(int p)
        {
            if (SplitN)
            {
                int panels = Ceil(Mc, MR), rows = Math.Min(MR, Mc - p * MR);
                for (int pc = 0; pc < Kc; pc += KC)
                {
                    int kb = Math.Min(KC, Kc - pc);
                    GemmPack.PackA(Shared + (long)pc * panels * MR + (long)p * MR * kb, A, RsA, CsA, M0 + p * MR, rows, K0 + pc, kb);
                }
            }
            else
            {
                int panels = Ceil(Nc, NR), cols = Math.Min(NR, Nc - p * NR);
                for (int pc = 0; pc < Kc; pc += KC)
                {
                    int kb = Math.Min(KC, Kc - pc);
                    GemmPack.PackB(Shared + (long)pc * panels * NR + (long)p * NR * kb, B, RsB, CsB, K0 + pc, kb, N0 + p * NR, cols);
                }
            }
        }

        /// <summary>Task <paramref name="t"/>: one block of columns (SplitN) or rows of the chunk, all K blocks.</summary>
        public readonly void Compute(int t)
        {
            float* priv = Scratch(ref t_private, PrivateFloats);
            int m0, mc, n0, nc;
            if (SplitN) { m0 = M0; mc = Mc; n0 = N0 + t * TaskWidth; nc = Math.Min(TaskWidth, N0 + Nc - n0); }
            else { n0 = N0; nc = Nc; m0 = M0 + t * TaskWidth; mc = Math.Min(TaskWidth, M0 + Mc - m0); }
            int mPanels = Ceil(mc, MR), nPanels = Ceil(nc, NR);
            for (int pc = 0; pc < Kc; pc += KC)
            {
                int kb = Math.Min(KC, Kc - pc);
                bool first = K0 + pc == 0;
                bool load = !first || Accumulate;
                float* bias = first ? Bias : null;
                float* ap, bp;
                nint aStride = (nint)MR * kb, bStride = (nint)NR * kb;
                if (SplitN)
                {
                    ap = Shared + (long)pc * Ceil(Mc, MR) * MR;
                    bp = priv;
                    for (int jp = 0; jp < nPanels; jp++)
                        GemmPack.PackB(bp + jp * bStride, B, RsB, CsB, K0 + pc, kb, n0 + jp * NR, Math.Min(NR, nc - jp * NR));
                }
                else
                {
                    ap = priv;
                    bp = Shared + (long)pc * Ceil(Nc, NR) * NR;
                    for (int ip = 0; ip < mPanels; ip++)
                        GemmPack.PackA(ap + ip * aStride, A, RsA, CsA, m0 + ip * MR, Math.Min(MR, mc - ip * MR), K0 + pc, kb);
                }
                // The B panel is reused from L1 across the whole column of A panels.
                for (int jp = 0; jp < nPanels; jp++)
                {
                    int cols = Math.Min(NR, nc - jp * NR);
                    float* bPanel = bp + jp * bStride;
                    float* biasJ = bias != null ? bias + n0 + jp * NR : null;
                    for (int ip = 0; ip < mPanels; ip++)
                    {
                        int rows = Math.Min(MR, mc - ip * MR);
                        float* cTile = C + (m0 + ip * MR) * Ldc + n0 + jp * NR;
                        if (rows == MR && cols == NR) GemmKernels.Tile(kb, ap + ip * aStride, bPanel, cTile, Ldc, load, biasJ);
                        else GemmKernels.EdgeTile(kb, ap + ip * aStride, bPanel, cTile, Ldc, rows, cols, load, biasJ);
                    }
                }
            }
        }
    }

    private struct PackSharedJob : IParallelJob
    {
        public GemmArgs G;
        public readonly void Execute(int index) => G.PackShared(index);
    }

    private struct ComputeJob : IParallelJob
    {
        public GemmArgs G;
        public readonly void Execute(int index) => G.Compute(index);
    }
}
