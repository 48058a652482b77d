using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using RlhfCore.Backends.Ilgpu;

namespace RlhfCore.Tests.Kernels.Ilgpu;

/// <summary>
/// Every ILGPU kernel compiles to PTX offline, without a GPU, for SM_80 and SM_90 (ILGPU's PTX backend, as
/// the CUDA accelerator would run it), and the parameter structs have the layout the launchers and the PTX
/// assume: the sizes and field offsets pinned here, and each struct appearing in the kernel's PTX
/// parameter list as a byte array of that size.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuPtxEmissionTests
{
    private Context? _context;

    [OneTimeSetUp]
    public void CreateContext() => _context = Context.Create(b => b.EnableAlgorithms().Optimize(OptimizationLevel.O2));

    [OneTimeTearDown]
    public void DisposeContext() => _context?.Dispose();

    /// <summary>The kernel entry points: the backend's internal static methods named *Kernel.</summary>
    public static IEnumerable<string> Kernels => KernelMethods().Select(m => m.Name);

    private static IEnumerable<MethodInfo> KernelMethods() =>
        typeof(IlgpuBackend).GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public)
            .Where(m => m.Name.EndsWith("Kernel", StringComparison.Ordinal) && m.ReturnType == typeof(void))
            .OrderBy(m => m.Name);

    [Test]
    public void EveryKernelFamilyHasKernels()
    {
        var names = Kernels.ToList();
        foreach (string family in new[] { "Embedding", "LayerNorm", "Matmul", "Gelu", "Residual", "GatherRows", "CrossEntropy",
                     "LogProbs", "Entropy", "Sample", "AttentionDecode", "AdamW", "GradNorm", "Scale" })
            Assert.That(names.Any(n => n.StartsWith(family, StringComparison.Ordinal)), $"no ILGPU kernel for {family} among [{string.Join(", ", names)}]");
    }

    [Test]
    public void EmitsPtxForSm80AndSm90([ValueSource(nameof(Kernels))] string kernel, [Values(80, 90)] int sm)
    {
        var method = KernelMethods().Single(m => m.Name == kernel);
        var arch = sm == 80 ? CudaArchitecture.SM_80 : CudaArchitecture.SM_90;
        var isa = sm == 80 ? CudaInstructionSet.ISA_80 : CudaInstructionSet.ISA_83;
        using var backend = new PTXBackend(_context!, new CudaCapabilityContext(arch), arch, isa, null);
        var entry = EntryPointDescription.FromExplicitlyGroupedKernel(method);
        var specialization = new KernelSpecialization(IlgpuBackend.CudaGroupSize, null);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, specialization);
        string ptx = compiled.PTXAssembly;
        string target = ptx.Split('\n').FirstOrDefault(l => l.StartsWith(".target", StringComparison.Ordinal)) ?? "(no .target line)";
        // ILGPU 1.5.3 writes ".target sm_80" even when asked for SM_90 (seen here with ISA 8.0 and 8.3): sm_80
        // PTX is what the CUDA accelerator JIT-compiles on an H100 too. The test pins that, so a change shows.
        Assert.That(target, Does.StartWith(".target sm_80"), "target");
        Assert.That(ptx, Does.Contain(".entry"), "an entry point");
        Assert.That(ptx, Does.Contain($".maxntid {IlgpuBackend.CudaGroupSize}"), "the group size as .maxntid");
        var structParam = method.GetParameters()[^1].ParameterType;
        Assert.That(structParam.Name, Does.EndWith("Params"), "the last kernel argument is its parameter struct");
        int size = Marshal.SizeOf(structParam);
        // A struct is passed as a byte array of its size; a one-field 8-byte struct is flattened to a .b64.
        Assert.That(ptx, Does.Match($@"\.param \.align \d+ \.b8 _[pq]_\d+\[{size}\]|\.param \.b{size * 8} _[pq]_\d+"), $"{structParam.Name} passed as {size} bytes");
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    [Test]
    public void ParameterStructsHaveTheLayoutTheLaunchersAssume()
    {
        Assert.That(Unsafe.SizeOf<GeluParams>(), Is.EqualTo(8));
        Assert.That(Unsafe.SizeOf<ResidualParams>(), Is.EqualTo(8));
        Assert.That(Unsafe.SizeOf<AdamWParams>(), Is.EqualTo(40));
        Assert.That(Offset<AdamWParams>(nameof(AdamWParams.Lr)), Is.EqualTo(8));
        Assert.That(Offset<AdamWParams>(nameof(AdamWParams.VHatScale)), Is.EqualTo(36));
        Assert.That(Unsafe.SizeOf<GradNormParams>(), Is.EqualTo(16));
        Assert.That(Unsafe.SizeOf<ScaleParams>(), Is.EqualTo(16));
        Assert.That(Offset<ScaleParams>(nameof(ScaleParams.Scale)), Is.EqualTo(8));
        Assert.That(Unsafe.SizeOf<LayerNormParams>(), Is.EqualTo(16));
        Assert.That(Unsafe.SizeOf<EmbeddingParams>(), Is.EqualTo(16));
        Assert.That(Unsafe.SizeOf<GatherRowsParams>(), Is.EqualTo(16));
        Assert.That(Unsafe.SizeOf<CrossEntropyParams>(), Is.EqualTo(16));
        Assert.That(Unsafe.SizeOf<LogProbsParams>(), Is.EqualTo(8));
        Assert.That(Unsafe.SizeOf<SamplingParams>(), Is.EqualTo(24));
        Assert.That(Offset<SamplingParams>(nameof(SamplingParams.Temperature)), Is.EqualTo(12));
        Assert.That(Unsafe.SizeOf<AttentionDecodeParams>(), Is.EqualTo(32));
        Assert.That(Offset<AttentionDecodeParams>(nameof(AttentionDecodeParams.Scale)), Is.EqualTo(28));
        Assert.That(Unsafe.SizeOf<MatmulParams>(), Is.EqualTo(56));
        Assert.That(Offset<MatmulParams>(nameof(MatmulParams.M)), Is.EqualTo(32));
        Assert.That(Unsafe.SizeOf<BiasGradParams>(), Is.EqualTo(16));
    }
}
