using System.Diagnostics;
using System.Runtime.InteropServices;
using RlhfCore.Backends.Cpu;

namespace RlhfCore.Benchmarks;

/// <summary>
/// <c>gemm-compare</c>: a quick side-by-side of our GEMM and OpenBLAS at the GPT-2 shapes, both with the
/// same thread count, calls interleaved (ours, OpenBLAS, ours, …) so machine noise hits both alike.
/// Prints the median GFLOP/s of each and the ratio, by wall clock and per CPU-second of the process: on
/// a shared, oversubscribed machine the wall clock mostly measures the scheduler, while CPU time shows
/// what each implementation does with the cycles it gets (OpenBLAS's spinning workers count against it).
/// Usage: <c>gemm-compare [threads] [reps]</c>.
/// </summary>
internal static unsafe class GemmCompare
{
    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, long* timespec);

    private const int ClockProcessCpuTime = 2;

    private static double CpuSeconds()
    {
        long* ts = stackalloc long[2];
        ClockGetTime(ClockProcessCpuTime, ts);
        return ts[0] + ts[1] * 1e-9;
    }

    /// <summary>Runs the comparison and prints the table.</summary>
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : 2;
        int reps = args.Length > 1 ? int.Parse(args[1]) : 15;
        OpenBlas.SetThreads(threads);
        using var backend = new CpuBackend(threads);
        Console.WriteLine($"# ours: {backend.DeviceDescription}; OpenBLAS core {OpenBlas.CoreName}, {threads} threads; median of {reps} interleaved calls (LM head: {Math.Max(3, reps / 3)})");
        Console.WriteLine($"| {"N, C, OC",-17} | {"form",-8} | {"ours GFLOP/s",12} | {"OpenBLAS GFLOP/s",16} | {"ratio",5} | {"ours GFLOP/cpu-s",16} | {"OpenBLAS GFLOP/cpu-s",20} | {"ratio",5} |");
        Console.WriteLine($"|{new string('-', 19)}|{new string('-', 10)}|{new string('-', 14)}|{new string('-', 18)}|{new string('-', 7)}|{new string('-', 18)}|{new string('-', 22)}|{new string('-', 7)}|");
        foreach (var (n, c, oc) in GemmCase.Gpt2Shapes)
        {
            using var g = new GemmCase(backend, n, c, oc);
            int r = g.Flops > 5e9 ? Math.Max(3, reps / 3) : reps;
            foreach (var form in Enum.GetValues<GemmForm>())
            {
                g.RunOurs(form); g.RunOpenBlas(form); // warm-up: JIT, scratch buffers, page faults
                double[] ours = new double[r], blas = new double[r], oursCpu = new double[r], blasCpu = new double[r];
                for (int i = 0; i < r; i++)
                {
                    double c0 = CpuSeconds();
                    long t0 = Stopwatch.GetTimestamp();
                    g.RunOurs(form);
                    long t1 = Stopwatch.GetTimestamp();
                    double c1 = CpuSeconds();
                    g.RunOpenBlas(form);
                    long t2 = Stopwatch.GetTimestamp();
                    double c2 = CpuSeconds();
                    ours[i] = g.Flops / Stopwatch.GetElapsedTime(t0, t1).TotalSeconds / 1e9;
                    blas[i] = g.Flops / Stopwatch.GetElapsedTime(t1, t2).TotalSeconds / 1e9;
                    oursCpu[i] = g.Flops / (c1 - c0) / 1e9;
                    blasCpu[i] = g.Flops / (c2 - c1) / 1e9;
                }
                double mo = Median(ours), mb = Median(blas), co = Median(oursCpu), cb = Median(blasCpu);
                Console.WriteLine($"| {$"{n}, {c}, {oc}",-17} | {form,-8} | {mo,12:F1} | {mb,16:F1} | {mo / mb,5:F2} | {co,16:F1} | {cb,20:F1} | {co / cb,5:F2} |");
            }
        }
    }

    private static double Median(double[] x)
    {
        Array.Sort(x);
        return x.Length % 2 == 1 ? x[x.Length / 2] : 0.5 * (x[x.Length / 2 - 1] + x[x.Length / 2]);
    }
}
