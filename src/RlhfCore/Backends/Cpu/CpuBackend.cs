using System.Runtime.InteropServices;
using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cpu;

/// <summary>
/// The CPU backend: tensors are 64-byte-aligned native host memory; kernels are vectorized C#
/// (Vector512/Vector256 FMA, TensorPrimitives) split over a persistent <see cref="WorkerPool"/>.
/// Each kernel family lives in its own file of this partial class, forward and backward side by side.
/// Same seed and thread count give bit-identical results.
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>The worker pool kernels split their work over.</summary>
    internal WorkerPool Pool { get; }

    /// <summary>A CPU backend using <paramref name="threads"/> threads (default: all logical processors).</summary>
    public CpuBackend(int threads = 0)
    {
        Pool = new WorkerPool(threads > 0 ? threads : Environment.ProcessorCount);
    }

    /// <inheritdoc/>
    public string Name => "cpu";

    /// <inheritdoc/>
    public string DeviceDescription =>
        $"CPU, {Pool.ThreadCount} threads, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2" : "scalar")}";

    /// <inheritdoc/>
    public DeviceBuffer Allocate(long bytes)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "allocation size must be positive");
        void* p = NativeMemory.AlignedAlloc((nuint)bytes, TensorArena.Alignment);
        if (p == null) throw new OutOfMemoryException($"could not allocate {bytes} bytes of host memory");
        Interlocked.Increment(ref _liveBuffers);
        return new DeviceBuffer(this, (nint)p, bytes);
    }

    /// <inheritdoc/>
    public void Free(nint address)
    {
        NativeMemory.AlignedFree((void*)address);
        Interlocked.Decrement(ref _liveBuffers);
    }

    private long _liveBuffers;

    /// <summary>Buffers allocated and not yet freed: tests check that whoever creates a model, scorer or trainer disposes it.</summary>
    internal long LiveBuffers => Interlocked.Read(ref _liveBuffers);

    /// <inheritdoc/>
    public void Upload<T>(Tensor dst, ReadOnlySpan<T> src) where T : unmanaged
    {
        CheckTransfer(dst, src.Length, sizeof(T));
        src.CopyTo(new Span<T>((void*)dst.Address, src.Length));
    }

    /// <inheritdoc/>
    public void Download<T>(Tensor src, Span<T> dst) where T : unmanaged
    {
        CheckTransfer(src, dst.Length, sizeof(T));
        new ReadOnlySpan<T>((void*)src.Address, dst.Length).CopyTo(dst);
    }

    private static void CheckTransfer(Tensor t, int count, int elementSize)
    {
        if (t.IsNone) throw new ArgumentException("transfer to or from Tensor.None");
        if ((long)count * elementSize != t.Bytes)
            throw new ArgumentException($"transfer of {count} elements of {elementSize} bytes does not match {t} ({t.Bytes} bytes)");
    }

    /// <inheritdoc/>
    public void Synchronize() { }

    /// <inheritdoc/>
    public void Zero(Tensor t) => NativeMemory.Clear((void*)t.Address, (nuint)t.Bytes);

    /// <inheritdoc/>
    public void Copy(Tensor dst, Tensor src)
    {
        if (dst.Bytes != src.Bytes) throw new ArgumentException($"copy from {src} to {dst}: sizes differ");
        Buffer.MemoryCopy((void*)src.Address, (void*)dst.Address, dst.Bytes, src.Bytes);
    }

    /// <summary>The tensor's memory as a float pointer.</summary>
    internal static float* F(Tensor t) => (float*)t.Address;

    /// <summary>The tensor's memory as an int pointer.</summary>
    internal static int* I(Tensor t) => (int*)t.Address;

    /// <inheritdoc/>
    public void Dispose() => Pool.Dispose();
}
