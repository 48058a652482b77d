using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>
/// GAE over a rollout with the backend's kernels: <see cref="IBackend.GaeForward"/> (advantages, returns and
/// the masked moments in one scan), then whitening with <see cref="IBackend.MaskedNormalize"/> using those
/// moments (unbiased variance, ε = 1e-8, as TRL's masked_whiten). Buffers are allocated once.
/// </summary>
public sealed class GaeAdvantages : IDisposable
{
    private readonly IBackend _be;
    private readonly TensorArena _arena;
    private readonly int _B, _T;
    private readonly float[] _moments = new float[3];

    /// <summary>Buffers for rollouts of [B, T].</summary>
    public GaeAdvantages(IBackend backend, int B, int T)
    {
        _be = backend;
        _B = B;
        _T = T;
        int N = B * T;
        _arena = new TensorArena(backend,
        [
            new("rewards", DType.F32, [N]), new("values", DType.F32, [N]), new("mask", DType.F32, [N]),
            new("advantages", DType.F32, [N]), new("returns", DType.F32, [N]), new("moments", DType.F32, [3]),
        ]);
    }

    /// <summary>Advantages and returns for [B, T] rewards and values (0 on rows where mask is 0).</summary>
    public (float[] Advantages, float[] Returns) Run(float[] rewards, float[] values, float[] mask, float gamma, float lambda, bool whiten)
    {
        int N = _B * _T;
        _be.Upload<float>(_arena["rewards"], rewards);
        _be.Upload<float>(_arena["values"], values);
        _be.Upload<float>(_arena["mask"], mask);
        _be.GaeForward(_arena["advantages"], _arena["returns"], _arena["moments"], _arena["rewards"], _arena["values"], _arena["mask"],
            _B, _T, gamma, lambda);
        if (whiten)
        {
            _be.Download<float>(_arena["moments"], _moments);
            double count = _moments[0], mean = count > 0 ? _moments[1] / count : 0;
            double variance = count > 1 ? Math.Max(0, (_moments[2] - count * mean * mean) / (count - 1)) : 0;
            _be.MaskedNormalize(_arena["advantages"], _arena["mask"], (float)mean, (float)(1 / Math.Sqrt(variance + 1e-8)), N);
        }
        var adv = new float[N];
        var ret = new float[N];
        _be.Download<float>(_arena["advantages"], adv);
        _be.Download<float>(_arena["returns"], ret);
        return (adv, ret);
    }

    /// <inheritdoc/>
    public void Dispose() => _arena.Dispose();
}
