using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// Global gradient norm over the whole gradient arena (its padding is always zero), read to the host
/// once per step — for logging, for the clip factor, and to catch NaN/Inf before it reaches the weights.
/// </summary>
public sealed class GradientClipper : IDisposable
{
    private readonly IBackend _be;
    private readonly DeviceBuffer _result;
    private readonly Tensor _sum; // made once: a tensor view allocates its shape, and a step must not allocate
    private readonly float[] _host = new float[1];

    /// <summary>A clipper on <paramref name="backend"/>.</summary>
    public GradientClipper(IBackend backend)
    {
        _be = backend;
        _result = backend.Allocate(64);
        _sum = _result.AsTensor(DType.F32, 1);
    }

    /// <summary>The L2 norm of <paramref name="gradients"/> (an explicit host read).</summary>
    public float GlobalNorm(Tensor gradients)
    {
        _be.SumOfSquares(_sum, gradients, gradients.Length);
        _be.Download<float>(_sum, _host);
        return MathF.Sqrt(_host[0]);
    }

    /// <summary>The factor that brings <paramref name="norm"/> down to <paramref name="maxNorm"/> (1 when under it, or when clipping is off: maxNorm ≤ 0).</summary>
    public static float ClipScale(float norm, float maxNorm) =>
        maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6f) : 1f;

    /// <inheritdoc/>
    public void Dispose() => _result.Dispose();
}
