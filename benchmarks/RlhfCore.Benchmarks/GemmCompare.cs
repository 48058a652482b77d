using System.Diagnostics;
using RlhfCore.Backends.Cpu;

namespace RlhfCore.Benchmarks;

/// <summary>
/// <c>gemm-compare</c>: a quick side-by-side of our GEMM and OpenBLAS at the GPT-2 shapes, both with the
/// same thread count, calls interleaved (ours, OpenBLAS, ours, …) so machine noise hits both alike.
/// Prints the median GFLOP/s of each and the ratio. Usage: <c>gemm-compare [threads] [reps]</c>.
/// </summary>
internal static class GemmCompare
{
    /// <summary>Runs the comparison and prints the table.</summary>
    public static void Run(string[] args)
    {
        int threads = args.Length > 0 ? int.Parse(args[0]) : 2;
        int reps = args.Length > 1 ? int.Parse(args[1]) : 15;
        OpenBlas.SetThreads(threads);
        using var backend = new CpuBackend(threads);
        Console.WriteLine($"# ours: {backend.DeviceDescription}; OpenBLAS core {OpenBlas.CoreName}, {threads} threads; median of {reps} interleaved calls (LM head: {Math.Max(3, reps / 3)})");
        Console.WriteLine($"| {"N, C, OC",-17} | {"form",-8} | {"ours GFLOP/s",12} | {"OpenBLAS GFLOP/s",16} | {"ratio",5} |");
        Console.WriteLine($"|{new string('-', 19)}|{new string('-', 10)}|{new string('-', 14)}|{new string('-', 18)}|{new string('-', 7)}|");
        foreach (var (n, c, oc) in GemmCase.Gpt2Shapes)
        {
            using var g = new GemmCase(backend, n, c, oc);
            int r = g.Flops > 5e9 ? Math.Max(3, reps / 3) : reps;
            foreach (var form in Enum.GetValues<GemmForm>())
            {
                g.RunOurs(form); g.RunOpenBlas(form); // warm-up: JIT, scratch buffers, page faults
                var ours = new double[r];
                var blas = new double[r];
                for (int i = 0; i < r; i++)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    g.RunOurs(form);
                    long t1 = Stopwatch.GetTimestamp();
                    g.RunOpenBlas(form);
                    long t2 = Stopwatch.GetTimestamp();
                    ours[i] = g.Flops / Stopwatch.GetElapsedTime(t0, t1).TotalSeconds / 1e9;
                    blas[i] = g.Flops / Stopwatch.GetElapsedTime(t1, t2).TotalSeconds / 1e9;
                }
                double mo = Median(ours), mb = Median(blas);
                Console.WriteLine($"| {$"{n}, {c}, {oc}",-17} | {form,-8} | {mo,12:F1} | {mb,16:F1} | {mo / mb,5:F2} |");
            }
        }
    }

    private static double Median(double[] x)
    {
        Array.Sort(x);
        return x.Length % 2 == 1 ? x[x.Length / 2] : 0.5 * (x[x.Length / 2 - 1] + x[x.Length / 2]);
    }
}
