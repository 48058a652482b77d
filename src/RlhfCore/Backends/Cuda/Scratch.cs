using RlhfCore.Tensors;

namespace RlhfCore.Backends.Cuda;

// Device scratch for the two-pass deterministic reductions (LayerNorm and bias gradients, sum of squares).
// One buffer serves every op: ops run in stream order, so no two use it at once. It only grows, on the
// first call with a larger shape; growth synchronizes before freeing the old buffer, which queued kernels
// may still be using. Steady-state training steps never allocate.
public sealed partial class CudaBackend
{
    private DeviceBuffer? _scratch;

    /// <summary>A device pointer to at least <paramref name="bytes"/> of scratch, valid until the next call.</summary>
    internal nint Scratch(long bytes)
    {
        if (_scratch != null && _scratch.Bytes >= bytes) return _scratch.Address;
        if (_scratch != null)
        {
            Synchronize();
            _scratch.Dispose();
        }
        _scratch = Allocate(Math.Max(bytes, 1 << 20));
        return _scratch.Address;
    }
}
