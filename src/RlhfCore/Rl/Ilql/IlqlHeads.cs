using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Rl.Ilql;

/// <summary>
/// ILQL's heads on the trunk's final hidden states h [N, C] (after the final LayerNorm, as Hugging Face's
/// hidden_states[-1]): one or two Q heads [C → V], a Polyak-averaged target copy of each, and a V head [C → 1], all
/// linear (out = h·Wᵀ + b, the backend's matmul). trlx's make_head puts a C → 2C → ReLU MLP in each head; these are
/// linear, as the rest of this engine's heads.
/// Gradient rule: parameter gradients ACCUMULATE (+=, as the matmul backward); dh OVERWRITES unless asked to accumulate
/// (it joins the residual stream's gradient of the trunk, which the caller owns). Target heads have no gradients.
/// Parameters live in one arena (<see cref="Parameters"/>), gradients in another of the trainable heads only
/// (<see cref="Gradients"/>), for the optimizer.
/// </summary>
public sealed class IlqlHeads : IDisposable
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads, _acts;
    // Looked up once: a name built per call would allocate, and a training step must not.
    private readonly Tensor[] _q, _targetQ, _qW, _qB, _targetW, _targetB, _dqW, _dqB;

    /// <summary>Hidden width C.</summary>
    public int C { get; }
    /// <summary>Vocabulary (Q head outputs) V.</summary>
    public int V { get; }
    /// <summary>Token rows the activations hold.</summary>
    public int MaxRows { get; }
    /// <summary>1 or 2 Q heads.</summary>
    public int QHeads { get; }

    /// <summary>Heads for width <paramref name="C"/> and vocabulary <paramref name="V"/>, activations for up to <paramref name="maxRows"/> token rows.</summary>
    public IlqlHeads(IBackend backend, int C, int V, int maxRows, bool twoQs)
    {
        if (C <= 0 || V <= 0 || maxRows <= 0) throw new ArgumentOutOfRangeException(nameof(C), $"ILQL heads: C {C}, V {V} and rows {maxRows} must be positive");
        _be = backend;
        this.C = C;
        this.V = V;
        MaxRows = maxRows;
        QHeads = twoQs ? 2 : 1;
        var p = new List<TensorSpec>();
        var g = new List<TensorSpec>();
        var a = new List<TensorSpec>();
        for (int i = 0; i < QHeads; i++)
        {
            p.Add(new($"q{i}.weight", DType.F32, [V, C])); p.Add(new($"q{i}.bias", DType.F32, [V]));
            g.Add(new($"q{i}.weight", DType.F32, [V, C])); g.Add(new($"q{i}.bias", DType.F32, [V]));
        }
        for (int i = 0; i < QHeads; i++) { p.Add(new($"target_q{i}.weight", DType.F32, [V, C])); p.Add(new($"target_q{i}.bias", DType.F32, [V])); }
        p.Add(new("v.weight", DType.F32, [1, C])); p.Add(new("v.bias", DType.F32, [1]));
        g.Add(new("v.weight", DType.F32, [1, C])); g.Add(new("v.bias", DType.F32, [1]));
        for (int i = 0; i < QHeads; i++) { a.Add(new($"q{i}", DType.F32, [maxRows, V])); a.Add(new($"target_q{i}", DType.F32, [maxRows, V])); }
        a.Add(new("v", DType.F32, [maxRows])); a.Add(new("dv", DType.F32, [maxRows]));
        _params = new TensorArena(backend, p);
        _grads = new TensorArena(backend, g);
        _acts = new TensorArena(backend, a);
        _be.Zero(_params.All);
        _be.Zero(_grads.All);
        Tensor[] Each(TensorArena arena, string format) => [.. Enumerable.Range(0, QHeads).Select(i => arena[string.Format(System.Globalization.CultureInfo.InvariantCulture, format, i)])];
        _q = Each(_acts, "q{0}");
        _targetQ = Each(_acts, "target_q{0}");
        _qW = Each(_params, "q{0}.weight");
        _qB = Each(_params, "q{0}.bias");
        _targetW = Each(_params, "target_q{0}.weight");
        _targetB = Each(_params, "target_q{0}.bias");
        _dqW = Each(_grads, "q{0}.weight");
        _dqB = Each(_grads, "q{0}.bias");
        Values = _acts["v"];
        DValues = _acts["dv"];
        TrainableParameters = TensorArena.View(backend, _grads.Specs, [.. _grads.Specs.Select(sp => _params[sp.Name])]);
    }

    /// <summary>All parameters, targets included (for checkpoints).</summary>
    public TensorArena Parameters => _params;

    /// <summary>Gradients of the trainable heads (Q heads and V), named as their parameters.</summary>
    public TensorArena Gradients => _grads;

    /// <summary>The trainable parameters (Q heads and V, not the targets) as a view laid out as <see cref="Gradients"/>, for an optimizer.</summary>
    public TensorArena TrainableParameters { get; }

    /// <summary>Q head i's output [rows, V] after <see cref="Forward"/>; its gradient after the loss (the loss overwrites it in place).</summary>
    public Tensor Q(int i) => _q[i];

    /// <summary>Target Q head i's output [rows, V] after <see cref="Forward"/>.</summary>
    public Tensor TargetQ(int i) => _targetQ[i];

    /// <summary>V [rows] after <see cref="Forward"/>.</summary>
    public Tensor Values { get; }

    /// <summary>∂loss/∂V [rows], written by the loss before <see cref="Backward"/>.</summary>
    public Tensor DValues { get; }

    /// <summary>Weights ~ N(0, 0.02²) (GPT-2's initializer), zero biases, target heads equal to the Q heads.</summary>
    public void InitializeWeights(ulong seed)
    {
        var rng = new Rng(seed);
        foreach (var spec in _params.Specs)
        {
            if (spec.Name.StartsWith("target_", StringComparison.Ordinal)) continue;
            var t = _params[spec.Name];
            var host = new float[t.Length];
            if (spec.Name.EndsWith(".weight", StringComparison.Ordinal))
                for (int i = 0; i < host.Length; i++) host[i] = (float)(0.02 * rng.NextGaussian());
            _be.Upload<float>(t, host);
        }
        for (int i = 0; i < QHeads; i++)
        {
            _be.Copy(_params[$"target_q{i}.weight"], _params[$"q{i}.weight"]);
            _be.Copy(_params[$"target_q{i}.bias"], _params[$"q{i}.bias"]);
        }
    }

    /// <summary>Q, target Q and V of <paramref name="rows"/> hidden states h [rows, C].</summary>
    public void Forward(Tensor h, int rows)
    {
        CheckRows(rows);
        for (int i = 0; i < QHeads; i++)
        {
            _be.MatmulForward(_q[i], h, _qW[i], _qB[i], rows, C, V);
            _be.MatmulForward(_targetQ[i], h, _targetW[i], _targetB[i], rows, C, V);
        }
        _be.MatmulForward(Values, h, _params["v.weight"], _params["v.bias"], rows, C, 1);
    }

    /// <summary>
    /// Backward from dQ (in <see cref="Q"/>, as the loss leaves it) and <see cref="DValues"/>: parameter gradients +=;
    /// dh [rows, C] = (or += when <paramref name="accumulateDh"/>) the gradient with respect to the hidden states.
    /// </summary>
    public void Backward(Tensor dh, Tensor h, int rows, bool accumulateDh)
    {
        CheckRows(rows);
        for (int i = 0; i < QHeads; i++)
            _be.MatmulBackward(dh, _dqW[i], _dqB[i], _q[i], h, _qW[i], rows, C, V, accumulateDinp: accumulateDh || i > 0);
        _be.MatmulBackward(dh, _grads["v.weight"], _grads["v.bias"], DValues, h, _params["v.weight"], rows, C, 1, accumulateDinp: true);
    }

    /// <summary>Polyak update of every target head: target ← α·Q + (1 − α)·target (trlx's _sync_target_q_heads).</summary>
    public void SyncTargets(double alpha)
    {
        if (!(alpha > 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"--alpha: {alpha} must be in (0, 1]");
        for (int i = 0; i < QHeads; i++)
        {
            _be.LinearCombination(_targetW[i], _qW[i], _targetW[i], (float)alpha, (float)(1 - alpha), _targetW[i].Length);
            _be.LinearCombination(_targetB[i], _qB[i], _targetB[i], (float)alpha, (float)(1 - alpha), _targetB[i].Length);
        }
    }

    private void CheckRows(int rows)
    {
        if (rows <= 0 || rows > MaxRows) throw new ArgumentOutOfRangeException(nameof(rows), rows, $"ILQL heads: {rows} rows, outside [1, {MaxRows}]");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _acts.Dispose();
        _grads.Dispose();
        _params.Dispose();
    }
}
