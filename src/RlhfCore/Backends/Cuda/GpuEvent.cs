using RlhfCore.Backends.Native;

namespace RlhfCore.Backends.Cuda;

/// <summary>A CUDA event recorded on the backend's stream, for timing work on the device.</summary>
internal sealed unsafe class GpuEvent : IDisposable
{
    private readonly CuDriver _cu;

    /// <summary>The CUevent handle.</summary>
    public nint Handle { get; private set; }

    internal GpuEvent(CuDriver cu)
    {
        _cu = cu;
        nint e;
        Check.ThrowIfFailed(cu.cuEventCreate(&e, 0));
        Handle = e;
    }

    /// <summary>Milliseconds between <paramref name="start"/> and this event (waits for this event).</summary>
    public float MillisecondsSince(GpuEvent start)
    {
        Check.ThrowIfFailed(_cu.cuEventSynchronize(Handle));
        float ms;
        Check.ThrowIfFailed(_cu.cuEventElapsedTime(&ms, start.Handle, Handle));
        return ms;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Handle == 0) return;
        _cu.cuEventDestroy(Handle);
        Handle = 0;
    }
}
