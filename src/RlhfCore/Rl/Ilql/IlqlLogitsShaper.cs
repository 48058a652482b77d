using RlhfCore.Backends;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Rl.Ilql;

/// <summary>
/// ILQL's decoding as a <see cref="ILogitsShaper"/>: the heads run on each row's last hidden state and the logits become
/// log softmax(logits) + β·(min target Q − V) (<see cref="IlqlDecoding.ShiftedLogits"/>, on the host, then uploaded back). With
/// β = 0 the logits are left as they are: the shift is zero and log softmax differs from the logits by one constant per row, so
/// the distribution is the same, and leaving them untouched makes β = 0 plain decoding bit for bit.
/// </summary>
public sealed class IlqlLogitsShaper : ILogitsShaper
{
    private readonly IBackend _be;
    private readonly IlqlHeads _heads;
    private readonly double _beta;
    private float[] _logits = [], _values = [], _shifted = [];
    private readonly float[][] _targets;

    /// <summary>Shapes with <paramref name="heads"/> (their activations must hold the generator's rows) and <paramref name="beta"/> ≥ 0.</summary>
    public IlqlLogitsShaper(IBackend backend, IlqlHeads heads, double beta)
    {
        if (!double.IsFinite(beta) || beta < 0) throw new ArgumentOutOfRangeException(nameof(beta), beta, $"--ilql-beta: {beta} must be finite and ≥ 0");
        _be = backend;
        _heads = heads;
        _beta = beta;
        _targets = new float[heads.QHeads][];
    }

    /// <inheritdoc/>
    public void Shape(Tensor hidden, Tensor logits, int B)
    {
        if (_beta == 0) return;
        int V = _heads.V;
        if (hidden.Length != (long)B * _heads.C || logits.Length != (long)B * V)
            throw new ArgumentException($"ILQL decoding: heads of width {_heads.C} and vocabulary {V} cannot shape [{B}, {logits.Length / Math.Max(1, B)}] logits");
        if (_logits.Length != B * V)
        {
            _logits = new float[B * V];
            _shifted = new float[B * V];
            _values = new float[B];
            for (int i = 0; i < _targets.Length; i++) _targets[i] = new float[B * V];
        }
        _heads.Forward(hidden, B);
        _be.Download<float>(logits, _logits);
        for (int i = 0; i < _targets.Length; i++) _be.Download<float>(_heads.TargetQ(i).Head((long)B * V), _targets[i]);
        _be.Download<float>(_heads.Values.Head(B), _values);
        IlqlDecoding.ShiftedLogits(_logits, IlqlDecoding.MinOfHeads(_targets), _values, _beta, B, V, _shifted);
        _be.Upload<float>(logits, _shifted);
    }
}
