using System.Diagnostics;
using RlhfCore.Backends.Cuda;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Verification;

/// <summary>One timed kernel: median time and the throughput it implies.</summary>
/// <param name="Kernel">Op name.</param>
/// <param name="Shape">Sizes.</param>
/// <param name="MedianMs">Median over the timed repetitions, milliseconds.</param>
/// <param name="GBps">Counted bytes moved / time (NaN for compute-bound ops).</param>
/// <param name="Tflops">Counted FLOPs / time (NaN for memory-bound ops).</param>
/// <param name="FractionOfCopyBandwidth">GBps / the measured device-to-device copy bandwidth (NaN when not memory-bound).</param>
/// <param name="Note">Why it did not run, or empty.</param>
public sealed record BenchRow(string Kernel, string Shape, double MedianMs, double GBps, double Tflops, double FractionOfCopyBandwidth, string Note = "");

/// <summary>
/// Timing for <c>rlhf bench</c>: per-kernel medians (CUDA events on the GPU, a stopwatch around a
/// synchronize on the CPU) after warm-up, throughput from counted bytes or FLOPs, the device's
/// copy-bandwidth ceiling,; whole training steps are timed by Training.StepBenchmark.
/// </summary>
public static class BackendBench
{
    /// <summary>Median milliseconds of <paramref name="body"/> over <paramref name="reps"/> runs after <paramref name="warmup"/>.</summary>
    public static double MedianMs(IBackend be, Action body, int warmup = 5, int reps = 50)
    {
        for (int i = 0; i < warmup; i++) body();
        be.Synchronize();
        var times = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            if (be is CudaBackend cuda)
            {
                using var start = cuda.RecordEvent();
                body();
                using var end = cuda.RecordEvent();
                times[i] = end.MillisecondsSince(start);
            }
            else if (be is Ilgpu.IlgpuBackend { Kind: Ilgpu.IlgpuAcceleratorKind.Cuda } ilgpu)
            {
                using var start = ilgpu.RecordEvent();
                body();
                using var end = ilgpu.RecordEvent();
                times[i] = end.MillisecondsSince(start);
            }
            else
            {
                var sw = Stopwatch.StartNew();
                body();
                be.Synchronize();
                times[i] = sw.Elapsed.TotalMilliseconds;
            }
        }
        Array.Sort(times);
        return times[reps / 2];
    }

    /// <summary>Device-to-device copy bandwidth in GB/s (bytes read + written), the memory-bound ceiling.</summary>
    public static double CopyBandwidthGBps(IBackend be, long bytes = 1L << 30)
    {
        using var s = new VerificationTensors(be);
        int n = (int)(bytes / 4);
        Tensor a = s.Alloc(DType.F32, n), b = s.Alloc(DType.F32, n);
        be.Zero(a);
        double ms = MedianMs(be, () => be.Copy(b, a), 3, 20);
        return 2.0 * bytes / (ms * 1e6);
    }

    /// <summary>Times the main kernels at GPT-2-124M shapes (B·T = <paramref name="tokens"/>).</summary>
    public static IReadOnlyList<BenchRow> Kernels(IBackend be, int tokens = 8192, int reps = 50)
    {
        double ceiling = CopyBandwidthGBps(be);
        var rows = new List<BenchRow> { new("copy (device-to-device)", "1 GiB", double.NaN, ceiling, double.NaN, 1.0) };
        const int C = 768, V = 50257;
        int N = tokens;
        var rng = new Random(1);
        float[] R(long n) { var a = new float[n]; for (long i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1); return a; }
        using var s = new VerificationTensors(be);
        Tensor x = s.Upload(R((long)N * 4 * C)), y = s.Upload(R((long)N * 4 * C)), z = s.Alloc(DType.F32, N * 4 * C);
        Tensor w = s.Upload(R(4L * C * C)), bias = s.Upload(R(4 * C)), mean = s.Alloc(DType.F32, N), rstd = s.Alloc(DType.F32, N);
        Tensor lnw = s.Upload(R(C)), lnb = s.Upload(R(C)), dw = s.Alloc(DType.F32, C), db = s.Alloc(DType.F32, C);
        long nC = (long)N * C, n4C = 4L * N * C;

        void Mem(string name, string shape, double bytes, Action body) => rows.Add(Run(name, shape, () =>
        {
            double ms = MedianMs(be, body, 5, reps);
            double gbps = bytes / (ms * 1e6);
            return new BenchRow(name, shape, ms, gbps, double.NaN, gbps / ceiling);
        }));
        void Flops(string name, string shape, double flops, Action body) => rows.Add(Run(name, shape, () =>
        {
            double ms = MedianMs(be, body, 5, reps);
            return new BenchRow(name, shape, ms, double.NaN, flops / (ms * 1e9), double.NaN);
        }));

        Mem("residual_forward", $"n={nC}", 12.0 * nC, () => be.ResidualForward(z, x, y, nC));
        Mem("gelu_forward", $"n={n4C}", 8.0 * n4C, () => be.GeluForward(z, x, n4C));
        Mem("gelu_backward", $"n={n4C}", 12.0 * n4C, () => be.GeluBackward(z, x, y, n4C));
        Mem("layernorm_forward", $"N={N} C={C}", 8.0 * nC, () => be.LayerNormForward(z, mean, rstd, x.Slice(0, nC, [N, C]), lnw, lnb, N, C));
        Mem("layernorm_backward", $"N={N} C={C}", 4.0 * 5 * nC, () => be.LayerNormBackward(z, dw, db, y.Slice(0, nC), x.Slice(0, nC), lnw, mean, rstd, N, C));
        long pn = Math.Min(n4C / 4, 31_000_000);
        Mem("adamw_update", $"n={pn}", 28.0 * pn, () => be.AdamWUpdate(x.Slice(0, pn), y.Slice(0, pn), z.Slice(0, pn), z.Slice(pn, pn), pn, 1e-4f, 0.9f, 0.95f, 1e-8f, 0.1f, 1f, 1));
        Mem("grad_norm_sum_of_squares", $"n={n4C}", 4.0 * n4C, () => be.SumOfSquares(dw.Slice(0, 1), x, n4C));
        Flops("matmul_forward qkv", $"N={N} C={C} OC={3 * C}", 2.0 * N * C * 3 * C, () => be.MatmulForward(z.Slice(0, 3 * nC, [N, 3 * C]), x.Slice(0, nC), w.Slice(0, 3L * C * C), bias.Slice(0, 3 * C), N, C, 3 * C));
        Flops("matmul_backward fc", $"N={N} C={C} OC={4 * C}", 4.0 * N * C * 4 * C, () => be.MatmulBackward(z.Slice(0, nC), w, Tensor.None, y, x.Slice(0, nC), w, N, C, 4 * C));
        int Nce = Math.Min(N, (int)(x.Length / V));
        var targets = s.Upload(Enumerable.Range(0, Nce).Select(i => i % V).ToArray());
        Mem("crossentropy_fused", $"N={Nce} V={V}", 12.0 * Nce * V, () => be.CrossEntropyForwardBackward(mean.Slice(0, Nce), z.Slice(0, (long)Nce * V), x.Slice(0, (long)Nce * V), targets, Tensor.None, Nce, V));
        return rows;
    }

    private static BenchRow Run(string name, string shape, Func<BenchRow> body)
    {
        try { return body(); }
        catch (Exception e) when (e is NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return new BenchRow(name, shape, double.NaN, double.NaN, double.NaN, double.NaN, $"{e.GetType().Name}: {e.Message.Split('\n')[0]}");
        }
    }
}
