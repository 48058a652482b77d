using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RlhfCore.Backends.Native;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

// ---------------------------------------------------------------------------------------------------
// Launch API, for everyone writing a kernel family (one file per family, as in Backends/Cpu):
//
//   internal CudaKernel Kernel(string module, string entry)
//       Entry point `entry` of kernels/cuda/<module>.cu, compiled by NVRTC for this device on first use
//       (disk-cached) and memoized. Cache it in a field: `_k ??= Kernel("residual", "residual_forward")`.
//   internal CudaKernel LoadPtxKernel(string ptxResourceName, string entry)
//       Entry point `entry` of the embedded kernels/ptx/<ptxResourceName> (e.g. "gae.ptx"), JIT-compiled
//       by the driver on first use and memoized.
//   internal void Launch<T>(CudaKernel k, (uint x, uint y, uint z) grid, (uint x, uint y, uint z) block,
//                           uint sharedBytes, in T args) where T : unmanaged
//       Queues k on the backend's stream with ONE by-value parameter: a blittable struct T mirrored in
//       C# with [StructLayout(LayoutKind.Sequential)] and in the kernel as
//           extern "C" __global__ void k(const FooParams p)
//       Assert sizeof(T) against the size written in the .cu comment (see CudaParamsTests). A grid with
//       a zero dimension launches nothing. sharedBytes above 48 KiB is opted in automatically.
//       With RLHF_CUDA_SYNC_CHECK=1 every launch is followed by a stream synchronize and a check, so an
//       illegal address is reported at the kernel that caused it (slow: for selftest and debugging).
//   Grid1D(n, threads) is ceil(n / threads) blocks along x. Tensor addresses are device pointers: pass
//   t.Address (or Ptr(t), which is 0 for Tensor.None) in the parameter struct.
// ---------------------------------------------------------------------------------------------------

/// <summary>
/// The CUDA backend: one context (the device's primary context) and one stream; plain device allocations;
/// pinned staging buffers for transfers; kernels from kernels/cuda compiled by NVRTC at first use and from
/// kernels/ptx through the driver JIT; GEMMs through cuBLASLt (TF32) when it loads, else our tensor-core
/// kernel. Each kernel family lives in its own file of this partial class. Nothing in an op allocates or
/// synchronizes with the host except the explicit transfers.
/// </summary>
public sealed unsafe partial class CudaBackend : IBackend
{
    /// <summary>Environment variable: "1" synchronizes and checks after every launch.</summary>
    public const string SyncCheckVariable = "RLHF_CUDA_SYNC_CHECK";

    private const int StagingBytes = 8 << 20;

    [ThreadStatic] private static nint t_currentContext;

    private readonly CuDriver _cu;
    private readonly int _device;
    private readonly nint _context;
    private readonly nint _stream;
    private readonly void*[] _staging = new void*[2];
    private readonly nint[] _stagingDone = new nint[2];
    private int _nextStaging;
    private readonly CudaModules _launcher;
    private bool _disposed;

    /// <summary>Compute capability, major part (8 for A100, 9 for H100).</summary>
    public int ComputeMajor { get; }

    /// <summary>Compute capability, minor part.</summary>
    public int ComputeMinor { get; }

    /// <summary>Number of streaming multiprocessors.</summary>
    public int MultiprocessorCount { get; }

    /// <summary>The device's name as the driver reports it.</summary>
    public string DeviceName { get; }

    /// <summary>Device memory in bytes.</summary>
    public long TotalMemory { get; }

    /// <summary>True when every launch is followed by a synchronize and an error check (<see cref="SyncCheckVariable"/>).</summary>
    public bool SyncCheck { get; set; } = Environment.GetEnvironmentVariable(SyncCheckVariable) == "1";

    /// <summary>The stream every op is queued on (CUstream).</summary>
    internal nint Stream => _stream;

    /// <summary>
    /// Opens device <paramref name="deviceIndex"/>. Throws <see cref="CudaUnavailableException"/> with the
    /// reason when the driver is missing or there is no such device.
    /// </summary>
    public CudaBackend(int deviceIndex = 0)
    {
        _cu = CuDriver.Api;
        CuResult init = _cu.cuInit(0);
        if (init != CuResult.Success)
            throw new CudaUnavailableException($"cuInit failed: {CuDriver.ErrorName(init)}: {CuDriver.ErrorString(init)} (no usable NVIDIA GPU or driver?)");
        int count;
        Check.ThrowIfFailed(_cu.cuDeviceGetCount(&count));
        if (deviceIndex < 0 || deviceIndex >= count)
            throw new CudaUnavailableException($"CUDA device {deviceIndex} requested, but the driver sees {count} device(s)");
        int dev;
        Check.ThrowIfFailed(_cu.cuDeviceGet(&dev, deviceIndex));
        _device = dev;
        ComputeMajor = Attribute(CuDeviceAttribute.ComputeCapabilityMajor);
        ComputeMinor = Attribute(CuDeviceAttribute.ComputeCapabilityMinor);
        MultiprocessorCount = Attribute(CuDeviceAttribute.MultiprocessorCount);
        if (ComputeMajor < 8)
            throw new CudaUnavailableException($"CUDA device {deviceIndex} has compute capability {ComputeMajor}.{ComputeMinor}; RlhfCore's kernels need 8.0 (Ampere) or newer");
        byte* name = stackalloc byte[256];
        Check.ThrowIfFailed(_cu.cuDeviceGetName(name, 256, dev));
        DeviceName = Marshal.PtrToStringUTF8((nint)name) ?? "CUDA device";
        nuint mem;
        Check.ThrowIfFailed(_cu.cuDeviceTotalMem(&mem, dev));
        TotalMemory = (long)mem;
        nint ctx;
        Check.ThrowIfFailed(_cu.cuDevicePrimaryCtxRetain(&ctx, dev));
        _context = ctx;
        MakeCurrent();
        nint stream;
        Check.ThrowIfFailed(_cu.cuStreamCreate(&stream, 1 /* CU_STREAM_NON_BLOCKING */));
        _stream = stream;
        _launcher = new CudaModules(stream);
        for (int i = 0; i < 2; i++)
        {
            void* p;
            Check.ThrowIfFailed(_cu.cuMemAllocHost(&p, StagingBytes));
            _staging[i] = p;
            nint ev;
            Check.ThrowIfFailed(_cu.cuEventCreate(&ev, 2 /* CU_EVENT_DISABLE_TIMING */));
            _stagingDone[i] = ev;
        }
    }

    /// <summary>True when a CUDA device can be opened here; otherwise <paramref name="reason"/> says why.</summary>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            using var probe = new CudaBackend();
            reason = "";
            return true;
        }
        catch (Exception e) when (e is CudaUnavailableException or CudaException)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <inheritdoc/>
    public string Name => "cuda";

    /// <inheritdoc/>
    public string DeviceDescription =>
        $"{DeviceName}, compute {ComputeMajor}.{ComputeMinor}, {MultiprocessorCount} SMs, {TotalMemory / (1L << 30)} GiB, GEMM: {GemmEngine}";

    private int Attribute(CuDeviceAttribute a)
    {
        int v;
        Check.ThrowIfFailed(_cu.cuDeviceGetAttribute(&v, a, _device));
        return v;
    }

    /// <summary>Makes this backend's context current on the calling thread (cheap when it already is).</summary>
    internal void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (t_currentContext == _context) return;
        Check.ThrowIfFailed(_cu.cuCtxSetCurrent(_context));
        t_currentContext = _context;
    }

    // ---- memory and transfers -------------------------------------------------------------------------

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "allocation size must be positive");
        MakeCurrent();
        nint p;
        CuResult r = _cu.cuMemAlloc(&p, (nuint)bytes);
        if (r != CuResult.Success)
            throw new OutOfMemoryException($"cuMemAlloc of {bytes} bytes on {DeviceName} failed: {CuDriver.ErrorName(r)}: {CuDriver.ErrorString(r)}");
        return new DeviceBuffer(this, p, bytes);
    }

    /// <inheritdoc/>
    public void Free(nint address)
    {
        if (_disposed) return; // the context's memory went with it
        MakeCurrent();
        Check.ThrowIfFailed(_cu.cuMemFree(address));
    }

    /// <inheritdoc/>
    public void Upload<T>(Tensor dst, ReadOnlySpan<T> src) where T : unmanaged
    {
        CheckTransfer(dst, src.Length, sizeof(T));
        MakeCurrent();
        var bytes = MemoryMarshal.AsBytes(src);
        for (int off = 0; off < bytes.Length; off += StagingBytes)
        {
            int len = Math.Min(StagingBytes, bytes.Length - off);
            int i = _nextStaging;
            _nextStaging ^= 1;
            // The staging buffer may still feed an earlier copy: wait for that copy only.
            Check.ThrowIfFailed(_cu.cuEventSynchronize(_stagingDone[i]));
            bytes.Slice(off, len).CopyTo(new Span<byte>(_staging[i], len));
            Check.ThrowIfFailed(_cu.cuMemcpyHtoDAsync(dst.Address + off, _staging[i], (nuint)len, _stream));
            Check.ThrowIfFailed(_cu.cuEventRecord(_stagingDone[i], _stream));
        }
    }

    /// <inheritdoc/>
    public void Download<T>(Tensor src, Span<T> dst) where T : unmanaged
    {
        CheckTransfer(src, dst.Length, sizeof(T));
        MakeCurrent();
        var bytes = MemoryMarshal.AsBytes(dst);
        for (int off = 0; off < bytes.Length; off += StagingBytes)
        {
            int len = Math.Min(StagingBytes, bytes.Length - off);
            int i = _nextStaging;
            _nextStaging ^= 1;
            Check.ThrowIfFailed(_cu.cuMemcpyDtoHAsync(_staging[i], src.Address + off, (nuint)len, _stream));
            Check.ThrowIfFailed(_cu.cuEventRecord(_stagingDone[i], _stream));
            Check.ThrowIfFailed(_cu.cuEventSynchronize(_stagingDone[i]));
            new ReadOnlySpan<byte>(_staging[i], len).CopyTo(bytes.Slice(off, len));
        }
    }

    private static void CheckTransfer(Tensor t, int count, int elementSize)
    {
        if (t.IsNone) throw new ArgumentException("transfer to or from Tensor.None");
        if ((long)count * elementSize != t.Bytes)
            throw new ArgumentException($"transfer of {count} elements of {elementSize} bytes does not match {t} ({t.Bytes} bytes)");
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        MakeCurrent();
        Check.ThrowIfFailed(_cu.cuStreamSynchronize(_stream));
    }

    /// <inheritdoc/>
    public void Zero(Tensor t)
    {
        if (t.Bytes == 0) return;
        MakeCurrent();
        Check.ThrowIfFailed(_cu.cuMemsetD8Async(t.Address, 0, (nuint)t.Bytes, _stream));
    }

    /// <summary>Sets every 32-bit word of <paramref name="t"/> to <paramref name="bits"/> (NaN poisoning in tests).</summary>
    internal void Fill32(Tensor t, uint bits)
    {
        if (t.Length == 0) return;
        MakeCurrent();
        Check.ThrowIfFailed(_cu.cuMemsetD32Async(t.Address, bits, (nuint)t.Length, _stream));
    }

    /// <inheritdoc/>
    public void Copy(Tensor dst, Tensor src)
    {
        if (dst.Bytes != src.Bytes) throw new ArgumentException($"copy from {src} to {dst}: sizes differ");
        if (dst.Bytes == 0) return;
        MakeCurrent();
        Check.ThrowIfFailed(_cu.cuMemcpyDtoDAsync(dst.Address, src.Address, (nuint)dst.Bytes, _stream));
    }

    // ---- modules and launches ----------------------------------------------------------------------

    /// <summary>Entry point <paramref name="entry"/> of kernels/cuda/<paramref name="module"/>.cu (NVRTC, disk-cached, memoized).</summary>
    internal CudaKernel Kernel(string module, string entry)
    {
        MakeCurrent();
        return _launcher.Kernel(module + ".cu", entry, () => CudaCompiler.Compile(module, ComputeMajor, ComputeMinor));
    }

    /// <summary>Entry point <paramref name="entry"/> of the embedded kernels/ptx/<paramref name="ptxResourceName"/> (driver JIT, memoized).</summary>
    internal CudaKernel LoadPtxKernel(string ptxResourceName, string entry)
    {
        MakeCurrent();
        return _launcher.Kernel(ptxResourceName, entry, () => CudaModules.PtxImage(KernelSources.Ptx(ptxResourceName)));
    }

    /// <summary>Queues <paramref name="k"/> with one by-value parameter struct (see the launch API at the top of this file).</summary>
    internal void Launch<T>(CudaKernel k, (uint x, uint y, uint z) grid, (uint x, uint y, uint z) block, uint sharedBytes, in T args)
        where T : unmanaged
    {
        MakeCurrent();
        _launcher.SyncCheck = SyncCheck;
        _launcher.Launch(k, grid, block, sharedBytes, args);
    }

    /// <summary>Blocks of <paramref name="threads"/> along x covering <paramref name="n"/> items.</summary>
    internal static (uint x, uint y, uint z) Grid1D(long n, int threads) => ((uint)((n + threads - 1) / threads), 1, 1);

    /// <summary>A block of <paramref name="threads"/> along x.</summary>
    internal static (uint x, uint y, uint z) Block1D(int threads) => ((uint)threads, 1, 1);

    /// <summary>The device address of <paramref name="t"/> (0 for <see cref="Tensor.None"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static nint Ptr(Tensor t) => t.Address;

    /// <summary>Grid-stride launches need no more blocks than this: enough to fill every SM several times.</summary>
    internal uint MaxGridStrideBlocks => (uint)(MultiprocessorCount * 8);

    /// <summary>Records an event on the stream (for timing); the caller owns and destroys it.</summary>
    internal GpuEvent RecordEvent()
    {
        MakeCurrent();
        var e = new GpuEvent(_cu);
        Check.ThrowIfFailed(_cu.cuEventRecord(e.Handle, _stream));
        return e;
    }

    /// <inheritdoc/>
    public void GatherColumnsForward(Tensor output, Tensor inp, Tensor cols, int N, int V) =>
        throw new NotSupportedException("gather columns (ILQL's Q at the action) has no NVRTC kernel; use --device cpu, ilgpu-cpu or cuda-ilgpu");

    /// <inheritdoc/>
    public void GatherColumnsBackward(Tensor dinp, Tensor dout, Tensor cols, int N, int V) =>
        throw new NotSupportedException("gather columns (ILQL's Q at the action) has no NVRTC kernel; use --device cpu, ilgpu-cpu or cuda-ilgpu");

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed) return;
        MakeCurrent();
        _cu.cuStreamSynchronize(_stream);
        DisposeGemm();
        _launcher.Dispose();
        for (int i = 0; i < 2; i++)
        {
            _cu.cuEventDestroy(_stagingDone[i]);
            _cu.cuMemFreeHost(_staging[i]);
        }
        _cu.cuStreamDestroy(_stream);
        _cu.cuDevicePrimaryCtxRelease(_device);
        t_currentContext = 0;
        _disposed = true;
    }
}
