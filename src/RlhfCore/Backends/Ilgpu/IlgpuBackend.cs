using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using RlhfCore.Backends.Cpu;
using RlhfCore.Backends.Native;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Ilgpu;

/// <summary>Which ILGPU accelerator an <see cref="IlgpuBackend"/> runs on.</summary>
public enum IlgpuAcceleratorKind
{
    /// <summary>ILGPU's CPU accelerator: every GPU thread is an OS thread (tiny shapes only; for CI and stepping through kernels).</summary>
    Cpu,

    /// <summary>A CUDA device through ILGPU's CUDA accelerator.</summary>
    Cuda,
}

// ---------------------------------------------------------------------------------------------------
// Launch API, for everyone writing a kernel family (one file per family, as in Backends/Cpu):
//
//   Every kernel is an explicitly grouped ILGPU kernel, a static method whose arguments are ArrayViews
//   and ONE blittable parameter struct (dimensions and scalars, [StructLayout(Sequential)]; its size and
//   field offsets are pinned by IlgpuParamsTests against the PTX ILGPU emits). Each family loads its
//   kernels in a Load*Kernels method called from the constructor (loading compiles: ~1 s for the first,
//   30-180 ms each after), with Load(...) = Accelerator.LoadKernel + a .maxntid of GroupSize.
//   Launch on Stream with Rows(n) (one group per row, grid-stride beyond MaxGroups) or Flat(n)
//   (grid-stride elementwise). Kernels must work for any group size that is a multiple of 32 (32 on the
//   CPU accelerator, 256 on CUDA): ILGPU.Algorithms' group reductions are used with that in mind.
//   View(t) / Ints(t) / Doubles(t) turn a tensor into a view of the backend buffer holding it;
//   Tensor.None becomes a one-element dummy view (pass a flag in the parameter struct).
// ---------------------------------------------------------------------------------------------------

/// <summary>
/// The ILGPU backend: kernels written in C# with ILGPU (explicitly grouped, loaded once at start-up, all
/// queued on one ILGPU stream), over an ILGPU accelerator — CUDA or ILGPU's CPU accelerator. On CUDA,
/// GEMMs run on cuBLASLt and the hand-written PTX (fused attention, PPO loss, GAE) is launched through
/// our driver-API layer, all in ILGPU's context on ILGPU's stream. On the CPU accelerator the tiled ILGPU
/// GEMM runs and those four PTX ops run the CPU backend's implementation over the same host memory.
/// Tensors are addresses inside ILGPU-owned buffers. Nothing in an op allocates except the one-time
/// growth of scratch.
/// </summary>
public sealed partial class IlgpuBackend : IBackend
{
    /// <summary>Threads per group on the CPU accelerator: one warp of 32 (each thread is an OS thread).</summary>
    public const int CpuGroupSize = 32;

    /// <summary>Threads per group on CUDA.</summary>
    public const int CudaGroupSize = 256;

    /// <summary>Groups per launch on the CPU accelerator; grid-stride loops cover the rest.</summary>
    private const int CpuMaxGroups = 4;

    /// <summary>Allocation alignment inside ILGPU buffers (the tensor contract: 64 bytes).</summary>
    private const int Alignment = 64;

    private readonly Context _context;
    private readonly Accelerator _accelerator;
    private readonly AcceleratorStream _stream;
    private readonly CpuBackend? _host;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _dummy;
    private readonly List<Allocation> _allocations = [];
    private bool _disposed;

    private readonly record struct Allocation(nint Start, long Bytes, MemoryBuffer1D<byte, Stride1D.Dense> Buffer, long Offset);

    /// <summary>The accelerator kind this backend runs on.</summary>
    public IlgpuAcceleratorKind Kind { get; }

    /// <summary>Threads per group every kernel is launched with (a multiple of 32).</summary>
    public int GroupSize { get; }

    /// <summary>Upper bound on groups per grid-stride launch.</summary>
    internal int MaxGroups { get; }

    /// <summary>The ILGPU accelerator.</summary>
    internal Accelerator Accelerator => _accelerator;

    /// <summary>The one stream every op is queued on.</summary>
    internal AcceleratorStream Stream => _stream;

    /// <summary>
    /// Opens ILGPU on <paramref name="kind"/> (CUDA device <paramref name="deviceIndex"/>) and compiles every
    /// kernel. Throws <see cref="CudaUnavailableException"/> naming the reason when CUDA cannot be used.
    /// </summary>
    public IlgpuBackend(IlgpuAcceleratorKind kind, int deviceIndex = 0)
    {
        Kind = kind;
        if (kind == IlgpuAcceleratorKind.Cpu)
        {
            GroupSize = CpuGroupSize;
            MaxGroups = CpuMaxGroups;
            // CPUDevice.Default has a warp size of 4; the kernels (and ILGPU.Algorithms' reductions) assume 32.
            var device = new CPUDevice(32, CudaGroupSize / 32, 1);
            _context = Context.Create(b => b.CPU(device).EnableAlgorithms().Optimize(OptimizationLevel.O1));
            _accelerator = _context.CreateCPUAccelerator(0);
            _stream = _accelerator.DefaultStream;
            _host = new CpuBackend(1);
        }
        else
        {
            CudaLibraryResolver.Install();
            GroupSize = CudaGroupSize;
            try
            {
                _context = Context.Create(b => b.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
            }
            catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
            {
                throw new CudaUnavailableException($"ILGPU could not load the CUDA driver: {e.Message}", e);
            }
            var devices = _context.GetCudaDevices();
            if (deviceIndex < 0 || deviceIndex >= devices.Count)
            {
                _context.Dispose();
                throw new CudaUnavailableException($"CUDA device {deviceIndex} requested, but ILGPU sees {devices.Count} CUDA device(s).");
            }
            _accelerator = _context.CreateCudaAccelerator(deviceIndex);
            _stream = _accelerator.CreateStream();
            MaxGroups = _accelerator.NumMultiprocessors * 8;
        }
        _dummy = _accelerator.Allocate1D<byte>(Alignment);
        LoadKernels();
        if (_accelerator is CudaAccelerator cuda) OpenCudaInterop(cuda);
    }

    /// <summary>True when a CUDA device can be opened through ILGPU here; otherwise <paramref name="reason"/> says why.</summary>
    public static bool IsCudaAvailable(out string reason)
    {
        try
        {
            CudaLibraryResolver.Install();
            using var context = Context.Create(b => b.Cuda());
            int count = context.GetCudaDevices().Count;
            reason = count > 0 ? "" : "ILGPU sees no CUDA device";
            return count > 0;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or ILGPU.Runtime.Cuda.CudaException or InvalidOperationException)
        {
            reason = $"ILGPU could not open CUDA: {e.Message}";
            return false;
        }
    }

    /// <inheritdoc/>
    public string Name => Kind == IlgpuAcceleratorKind.Cpu ? "ilgpu-cpu" : "cuda-ilgpu";

    /// <inheritdoc/>
    public string DeviceDescription => Kind == IlgpuAcceleratorKind.Cpu
        ? $"ILGPU CPU accelerator (warp 32, group {GroupSize}), PTX ops on the CPU backend"
        : $"ILGPU {_accelerator.Name}, {_accelerator.NumMultiprocessors} SMs, {_accelerator.MemorySize / (1L << 30)} GiB, GEMM: {GemmEngine}";

    /// <summary>True on the CPU accelerator, where the hand-written PTX ops run the CPU backend's code instead.</summary>
    public bool PtxOpsOnHost => _host != null;

    private void LoadKernels()
    {
        LoadEmbeddingKernels();
        LoadLayerNormKernels();
        LoadMatmulKernels();
        LoadGeluKernels();
        LoadResidualKernels();
        LoadGatherRowsKernels();
        LoadGatherColumnsKernels();
        LoadCrossEntropyKernels();
        LoadLogProbsKernels();
        LoadSamplingKernels();
        LoadAttentionKernels();
        LoadAdamWKernels();
        LoadSgdKernels();
        LoadLionKernels();
        LoadAdafactorKernels();
        LoadOptimizerStatisticsKernels();
        LoadLinearCombinationKernels();
        LoadGradNormKernels();
    }

    /// <summary>Loads an explicitly grouped kernel with a .maxntid of <see cref="GroupSize"/>.</summary>
    internal TDelegate Load<TDelegate>(Func<Accelerator, KernelSpecialization, TDelegate> loader) =>
        loader(_accelerator, new KernelSpecialization(GroupSize, null));

    // ---- launch shapes --------------------------------------------------------------------------------

    /// <summary>One group per row for <paramref name="rows"/> rows, at most <see cref="MaxGroups"/> groups (kernels grid-stride over rows).</summary>
    internal KernelConfig Rows(long rows) => new((int)Math.Clamp(rows, 1, MaxGroups), GroupSize);

    /// <summary>A grid-stride elementwise launch over <paramref name="n"/> items.</summary>
    internal KernelConfig Flat(long n) => new((int)Math.Clamp((n + GroupSize - 1) / GroupSize, 1, MaxGroups), GroupSize);

    // ---- memory and views -----------------------------------------------------------------------------

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "allocation size must be positive");
        ObjectDisposedException.ThrowIf(_disposed, this);
        MemoryBuffer1D<byte, Stride1D.Dense> buffer;
        try
        {
            buffer = _accelerator.Allocate1D<byte>(bytes + Alignment);
        }
        catch (Exception e) when (e is OutOfMemoryException or AcceleratorException or ILGPU.Runtime.Cuda.CudaException)
        {
            throw new OutOfMemoryException($"could not allocate {bytes} bytes on {_accelerator.Name}: {e.Message}", e);
        }
        nint raw = buffer.NativePtr;
        long offset = (Alignment - (long)(raw & (Alignment - 1))) & (Alignment - 1);
        var a = new Allocation(raw + (nint)offset, bytes, buffer, offset);
        int at = FindIndex(a.Start);
        _allocations.Insert(at + 1, a);
        return new DeviceBuffer(this, a.Start, bytes);
    }

    /// <inheritdoc/>
    public void Free(nint address)
    {
        if (_disposed) return;
        int i = FindIndex(address);
        if (i < 0 || _allocations[i].Start != address) throw new ArgumentException($"address 0x{address:x} was not allocated by this backend");
        _allocations[i].Buffer.Dispose();
        _allocations.RemoveAt(i);
    }

    /// <summary>Index of the last allocation starting at or before <paramref name="address"/>, or −1.</summary>
    private int FindIndex(nint address)
    {
        int lo = 0, hi = _allocations.Count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_allocations[mid].Start <= address) { found = mid; lo = mid + 1; }
            else hi = mid - 1;
        }
        return found;
    }

    /// <summary>The bytes of <paramref name="t"/> as a view into the buffer that holds it.</summary>
    internal ArrayView1D<byte, Stride1D.Dense> Bytes(Tensor t)
    {
        if (t.IsNone) return _dummy.View;
        int i = FindIndex(t.Address);
        if (i >= 0)
        {
            var a = _allocations[i];
            long start = t.Address - a.Start;
            if (start + t.Bytes <= a.Bytes) return a.Buffer.View.SubView(a.Offset + start, Math.Max(t.Bytes, 1));
        }
        throw new ArgumentException($"{t} at 0x{t.Address:x} does not lie inside memory allocated by this {Name} backend");
    }

    /// <summary><paramref name="t"/> as a float view (a one-element dummy for <see cref="Tensor.None"/> or an empty tensor).</summary>
    internal ArrayView<float> View(Tensor t) => t.Bytes < 4 ? _dummy.View.BaseView.Cast<float>() : Bytes(t).BaseView.Cast<float>();

    /// <summary><paramref name="t"/> as an int view (a dummy for <see cref="Tensor.None"/>).</summary>
    internal ArrayView<int> Ints(Tensor t) => t.Bytes < 4 ? _dummy.View.BaseView.Cast<int>() : Bytes(t).BaseView.Cast<int>();

    /// <inheritdoc/>
    public void Upload<T>(Tensor dst, ReadOnlySpan<T> src) where T : unmanaged
    {
        CheckTransfer(dst, src.Length, Marshal.SizeOf<T>());
        if (src.Length == 0) return;
        var bytes = MemoryMarshal.AsBytes(src);
        Bytes(dst).CopyFromCPU(_stream, ref MemoryMarshal.GetReference(bytes), bytes.Length);
        _stream.Synchronize(); // the span may be gone when the copy would run
    }

    /// <inheritdoc/>
    public void Download<T>(Tensor src, Span<T> dst) where T : unmanaged
    {
        CheckTransfer(src, dst.Length, Marshal.SizeOf<T>());
        if (dst.Length == 0) return;
        var bytes = MemoryMarshal.AsBytes(dst);
        Bytes(src).CopyToCPU(_stream, ref MemoryMarshal.GetReference(bytes), bytes.Length);
        _stream.Synchronize();
    }

    private static void CheckTransfer(Tensor t, int count, int elementSize)
    {
        if (t.IsNone) throw new ArgumentException("transfer to or from Tensor.None");
        if ((long)count * elementSize != t.Bytes)
            throw new ArgumentException($"transfer of {count} elements of {elementSize} bytes does not match {t} ({t.Bytes} bytes)");
    }

    /// <inheritdoc/>
    public void Synchronize() => _stream.Synchronize();

    /// <inheritdoc/>
    public void Zero(Tensor t)
    {
        if (t.Bytes == 0) return;
        Bytes(t).MemSetToZero(_stream);
    }

    /// <inheritdoc/>
    public void Copy(Tensor dst, Tensor src)
    {
        if (dst.Bytes != src.Bytes) throw new ArgumentException($"copy from {src} to {dst}: sizes differ");
        if (dst.Bytes == 0) return;
        Bytes(src).CopyTo(_stream, Bytes(dst));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        _stream.Synchronize();
        DisposeCudaInterop();
        _scratch?.Dispose();
        foreach (var a in _allocations) a.Buffer.Dispose();
        _allocations.Clear();
        _dummy.Dispose();
        if (_stream != _accelerator.DefaultStream) _stream.Dispose();
        _accelerator.Dispose();
        _context.Dispose();
        _host?.Dispose();
        _disposed = true;
    }
}
