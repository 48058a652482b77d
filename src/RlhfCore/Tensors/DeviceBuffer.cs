using RlhfCore.Backends;

namespace RlhfCore.Tensors;

/// <summary>One allocation on a backend. Disposing it frees the memory; tensors into it become invalid.</summary>
public sealed class DeviceBuffer : IDisposable
{
    private readonly IBackend _backend;

    /// <summary>Start address on the backend.</summary>
    public nint Address { get; private set; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    internal DeviceBuffer(IBackend backend, nint address, long bytes)
    {
        _backend = backend;
        Address = address;
        Bytes = bytes;
    }

    /// <summary>The whole buffer viewed as a tensor.</summary>
    public Tensor AsTensor(DType dtype, params int[] shape)
    {
        var t = new Tensor(Address, dtype, shape);
        if (t.Bytes > Bytes) throw new ArgumentException($"{t} needs {t.Bytes} bytes, buffer has {Bytes}");
        return t;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (Address == 0) return;
        _backend.Free(Address);
        Address = 0;
    }
}
