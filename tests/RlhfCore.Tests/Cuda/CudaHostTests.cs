using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using RlhfCore.Backends;
using RlhfCore.Backends.Verification;
using RlhfCore.Backends.Cuda;
using RlhfCore.Backends.Native;

namespace RlhfCore.Tests.Cuda;

/// <summary>
/// CUDA-backend checks that need no GPU: every embedded .cu compiles with NVRTC (when libnvrtc is present),
/// parameter structs match their CUDA mirrors, the disk-cache key tracks what it must, and a missing
/// library gives an actionable error.
/// </summary>
[TestFixture]
public sealed class CudaHostTests
{
    private static Nvrtc RequireNvrtc()
    {
        try
        {
            return Nvrtc.Api;
        }
        catch (CudaUnavailableException e)
        {
            Assert.Ignore("NVRTC is not installed here: " + e.Message);
            throw;
        }
    }

    public static IEnumerable<string> Modules => KernelSources.CudaModules;

    [Test]
    public void EveryKernelFamilyIsEmbedded()
    {
        string[] expected = ["adamw", "crossentropy", "embedding", "gather_rows", "gelu", "grad_norm", "layernorm", "logprobs", "matmul", "residual", "sampling"];
        Assert.That(KernelSources.CudaModules, Is.SupersetOf(expected.Where(m => File.Exists(Path.Combine(TestData.RepoRoot, "kernels", "cuda", m + ".cu")))));
        Assert.That(KernelSources.CudaModules, Does.Contain("residual"));
    }

    [Test]
    public void NvrtcCompilesEveryModule([ValueSource(nameof(Modules))] string module, [Values("sm_80", "sm_90")] string arch)
    {
        var nvrtc = RequireNvrtc();
        var (image, log) = nvrtc.Compile(KernelSources.CudaSource(module), module + ".cu", KernelSources.Headers, CudaCompiler.Options(arch), cubin: true);
        Assert.That(image, Is.Not.Empty);
        Assert.That(log, Does.Not.Contain("warning"), $"{module}.cu compiled with warnings:\n{log}");
    }

    [Test]
    public void NvrtcCompileErrorNamesTheFileAndLine()
    {
        var nvrtc = RequireNvrtc();
        var e = Assert.Throws<CudaException>(() => nvrtc.Compile("extern \"C\" __global__ void k() {\n  undefined_thing();\n}\n", "broken.cu", [], CudaCompiler.Options("sm_80"), true));
        Assert.That(e!.Message, Does.Contain("broken.cu(2)"));
    }

    /// <summary>Every <c>static_assert(sizeof(X) == n)</c> in a .cu has a C# struct X of exactly n bytes.</summary>
    [Test]
    public void ParameterStructSizesMatchTheirCudaMirrors()
    {
        var types = typeof(CudaBackend).Assembly.GetTypes().Where(t => t.Namespace == typeof(CudaBackend).Namespace && t.IsValueType)
            .ToDictionary(t => t.Name);
        int checkedCount = 0;
        foreach (string module in KernelSources.CudaModules)
            foreach (Match m in Regex.Matches(KernelSources.CudaSource(module), @"static_assert\(sizeof\((\w+)\)\s*==\s*(\d+)"))
            {
                string name = m.Groups[1].Value;
                Assert.That(types.TryGetValue(name, out var type), $"{module}.cu declares {name}, but no C# struct of that name exists");
                Assert.That(type!.StructLayoutAttribute?.Value, Is.EqualTo(LayoutKind.Sequential), $"{name} must be LayoutKind.Sequential");
                Assert.That(Marshal.SizeOf(type), Is.EqualTo(int.Parse(m.Groups[2].Value)), $"sizeof({name}) in C# vs {module}.cu");
                checkedCount++;
            }
        Assert.That(checkedCount, Is.GreaterThan(0));
    }

    [Test]
    public void CacheKeyChangesWithSourceArchitectureAndCompiler()
    {
        (string, string)[] headers = [("common.cuh", "// h")];
        string key = CudaCompiler.CacheKey("src", headers, "sm_90", (12, 4));
        Assert.That(CudaCompiler.CacheKey("src", headers, "sm_90", (12, 4)), Is.EqualTo(key));
        Assert.That(CudaCompiler.CacheKey("src2", headers, "sm_90", (12, 4)), Is.Not.EqualTo(key));
        Assert.That(CudaCompiler.CacheKey("src", headers, "sm_80", (12, 4)), Is.Not.EqualTo(key));
        Assert.That(CudaCompiler.CacheKey("src", headers, "sm_90", (13, 0)), Is.Not.EqualTo(key));
        Assert.That(CudaCompiler.CacheKey("src", [("common.cuh", "// changed")], "sm_90", (12, 4)), Is.Not.EqualTo(key));
    }

    [Test]
    public void MissingLibraryErrorNamesTheLibraryAndTheFix()
    {
        var e = Assert.Throws<CudaUnavailableException>(() => NativeLoader.Load("Frobnicator", ["libfrobnicator-missing.so.7"]));
        Assert.That(e!.Message, Does.Contain("Frobnicator").And.Contain("libfrobnicator-missing.so.7").And.Contain(NativeLoader.LibDirsVariable));
    }

    [Test]
    public void FactoryMakesCpuAndRejectsUnknownDevices()
    {
        using (var cpu = BackendFactory.Create("cpu", 2)) Assert.That(cpu.Name, Is.EqualTo("cpu"));
        Assert.Throws<ArgumentException>(() => BackendFactory.Create("tpu"));
    }

    [Test]
    public void FactoryExplainsWhyCudaIsUnavailable()
    {
        if (CudaBackend.IsAvailable(out _)) Assert.Ignore("a CUDA device is present");
        var e = Assert.Throws<CudaUnavailableException>(() => BackendFactory.Create("cuda"));
        Assert.That(e!.Message, Does.Contain("--device cuda").And.Contain("--device cpu"));
    }
}

/// <summary>The self-test harness itself, CPU against CPU: every compared op must agree exactly.</summary>
[TestFixture]
public sealed class BackendSelfTestHarnessTests
{
    [Test]
    public void CpuAgainstItselfMatchesExactly([Values("residual", "gelu", "grad_norm", "sampling")] string op)
    {
        using var a = new Backends.Cpu.CpuBackend(2);
        using var b = new Backends.Cpu.CpuBackend(2);
        var rows = new BackendSelfTest(a, b, seed: 3).Run(op);
        Assert.That(rows, Is.Not.Empty);
        Assert.That(rows.Where(r => !r.Pass || r.MaxRelError != 0).Select(r => r.ToString()), Is.Empty);
    }

    [Test]
    public void RelativeErrorFlagsNaN()
    {
        Assert.That(double.IsNaN(BackendSelfTest.RelativeError([float.NaN], [1f])));
        Assert.That(BackendSelfTest.RelativeError([1.5f, 2f], [1f, 2f]), Is.EqualTo(0.25).Within(1e-12));
    }

    [Test]
    public void FormatSummarisesFailures()
    {
        string text = BackendSelfTest.Format([new SelfTestRow("k", "n=1", 0, 1e-5, true), new SelfTestRow("k2", "n=7", double.NaN, 1e-5, false, "not implemented on cuda")]);
        Assert.That(text, Does.Contain("1 of 2 checks FAILED").And.Contain("not implemented on cuda"));
    }
}
