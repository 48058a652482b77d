using ILGPU;
using ILGPU.Runtime;

namespace RlhfCore.Backends.Ilgpu;

// Device scratch for the two-pass deterministic reductions (sum of squares, LayerNorm and bias gradients,
// GAE partials on CUDA, sampling state). One buffer serves every op: ops run in stream order, so no two use
// it at once. It only grows, on the first call with a larger shape; growth synchronizes before freeing the
// old buffer, which queued kernels may still be using. Steady-state training steps never allocate.
public sealed partial class IlgpuBackend
{
    private MemoryBuffer1D<byte, Stride1D.Dense>? _scratch;

    /// <summary>At least <paramref name="bytes"/> of scratch, valid until the next op that uses scratch.</summary>
    internal ArrayView1D<byte, Stride1D.Dense> ScratchBytes(long bytes)
    {
        if (_scratch == null || _scratch.Length < bytes)
        {
            if (_scratch != null)
            {
                _stream.Synchronize();
                _scratch.Dispose();
            }
            _scratch = _accelerator.Allocate1D<byte>((Math.Max(bytes, 1 << 16) + 7) & ~7L);
        }
        return _scratch.View;
    }

    /// <summary><paramref name="count"/> floats of scratch starting at float <paramref name="offset"/>.</summary>
    internal ArrayView<float> ScratchFloats(long offset, long count) =>
        ScratchBytes((offset + Math.Max(count, 1)) * 4).BaseView.Cast<float>().SubView(offset, Math.Max(count, 1));

    /// <summary><paramref name="count"/> doubles of scratch starting at double <paramref name="offset"/>.</summary>
    internal ArrayView<double> ScratchDoubles(long offset, long count) =>
        ScratchBytes((offset + Math.Max(count, 1)) * 8).BaseView.Cast<double>().SubView(offset, Math.Max(count, 1));
}
