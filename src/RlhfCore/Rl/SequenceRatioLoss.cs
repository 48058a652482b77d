using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Rl;

/// <summary>
/// GSPO's policy loss on a backend, composed from existing kernels instead of a new fused one:
/// <see cref="IBackend.TokenLogProbsForward"/> gives logp per token, the sequence-level objective runs on the host over
/// one float per token (<see cref="SequenceRatio.Evaluate"/>), and <see cref="IBackend.TokenLogProbsBackward"/> turns
/// ∂L/∂logp into dlogits. dlogits is OVERWRITTEN (zeroed, then the backward accumulates) and must not alias the logits,
/// which the backward reads. Buffers are allocated once; host arrays too.
/// </summary>
public sealed class SequenceRatioLoss : IDisposable
{
    private readonly IBackend _be;
    private readonly TensorArena _arena;
    private readonly int _N;
    private readonly float[] _logp, _dlogp;
    private readonly double[] _ratios;

    /// <summary>Buffers for <paramref name="rows"/>·<paramref name="T"/> token rows.</summary>
    public SequenceRatioLoss(IBackend backend, int rows, int T)
    {
        _be = backend;
        _N = rows * T;
        _arena = new TensorArena(backend, [new("logp", DType.F32, [_N]), new("dlogp", DType.F32, [_N])]);
        _logp = new float[_N];
        _dlogp = new float[_N];
        _ratios = new double[rows];
    }

    /// <summary>The sequence ratios sᵢ of the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<double> Ratios => _ratios;

    /// <summary>The per-token log-probabilities of the last <see cref="Run"/>.</summary>
    public ReadOnlySpan<float> Logp => _logp;

    /// <summary>
    /// Loss and, when <paramref name="backward"/>, dlogits [N, V] = ∂(Σₙ wₙ·pg_{i(n)})/∂logits for logits [N, V] and
    /// actions [N] (I32) on the device; the per-token host inputs as in <see cref="SequenceRatio.Evaluate"/>.
    /// </summary>
    public SequenceRatioStats Run(Tensor dlogits, Tensor logits, Tensor actions, int V, float[] oldLogp, float[] mask, float[] weights,
        double[] advantages, PolicyClip clip, bool backward)
    {
        if (backward && dlogits.Address == logits.Address)
            throw new ArgumentException("GSPO loss: dlogits must not alias the logits (the log-prob backward reads them)");
        int N = _N;
        _be.TokenLogProbsForward(_arena["logp"], logits, actions, N, V);
        _be.Download<float>(_arena["logp"], _logp);
        var stats = SequenceRatio.Evaluate(_logp, oldLogp, mask, weights, advantages, _ratios.Length, clip, _ratios, _dlogp);
        if (backward)
        {
            _be.Upload<float>(_arena["dlogp"], _dlogp);
            _be.Zero(dlogits);
            _be.TokenLogProbsBackward(dlogits, _arena["dlogp"], logits, actions, N, V);
        }
        return stats;
    }

    /// <inheritdoc/>
    public void Dispose() => _arena.Dispose();
}
