using BenchmarkDotNet.Attributes;
using RlhfCore.Backends.Cpu;

namespace RlhfCore.Benchmarks;

/// <summary>
/// Our GEMM against OpenBLAS cblas_sgemm (the baseline), both on 2 threads, at the GPT-2 124M matmul
/// shapes (N = 256) in all three forms. Run: <c>dotnet run -c Release --project benchmarks/RlhfCore.Benchmarks -- --filter *GemmBenchmarks*</c>.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private CpuBackend? _backend;
    private GemmCase? _case;

    /// <summary>"N,C,OC".</summary>
    [Params("256,768,2304", "256,768,768", "256,768,3072", "256,3072,768", "256,768,50257")]
    public string Shape { get; set; } = "256,768,768";

    /// <summary>Which product.</summary>
    [Params(GemmForm.Forward, GemmForm.Dinp, GemmForm.Dweight)]
    public GemmForm Form { get; set; }

    /// <summary>Allocates the buffers and sets both libraries to 2 threads.</summary>
    [GlobalSetup]
    public void Setup()
    {
        int[] s = Shape.Split(',').Select(int.Parse).ToArray();
        OpenBlas.SetThreads(2);
        _backend = new CpuBackend(2);
        _case = new GemmCase(_backend, s[0], s[1], s[2]);
    }

    /// <summary>OpenBLAS cblas_sgemm.</summary>
    [Benchmark(Baseline = true)]
    public void OpenBlasSgemm() => _case!.RunOpenBlas(Form);

    /// <summary>Our blocked GEMM.</summary>
    [Benchmark]
    public void Ours() => _case!.RunOurs(Form);

    /// <summary>Frees the buffers and the worker pool.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _case?.Dispose();
        _backend?.Dispose();
    }
}
