using BenchmarkDotNet.Running;

// `gemm-compare` is a quick interleaved table (no BenchmarkDotNet); anything else goes to BenchmarkSwitcher.
if (args.Length > 0 && args[0] == "gemm-compare")
{
    RlhfCore.Benchmarks.GemmCompare.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
