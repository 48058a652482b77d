using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// The device side of <see cref="GroupedOptimizer.AttachTelemetry(int, ITelemetryObserver)"/>: one statistics buffer of <see cref="OptimizerStatisticSlots.Stride"/>
/// floats per tensor, read back to the host once per recorded step. A fused tensor (AdamW) has its row written by its own
/// update kernel (<c>AdamWUpdateWithStatistics</c>); every other tensor keeps a copy of its parameters from before the step
/// (for the step Δ) and gets its row from the backend's separate <c>OptimizerStatistics</c> pass (and Muon's residual sums).
/// </summary>
internal sealed class OptimizerTelemetry : IDisposable
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads;
    private readonly IReadOnlyList<TensorRule> _rules;
    private readonly bool[] _fused;
    // The copies of the unfused tensors (null when every tensor is fused), and each tensor's copy (None when fused).
    private readonly TensorArena? _previousArena;
    private readonly Tensor[] _previous;
    private readonly DeviceBuffer _buffer;
    private readonly Tensor _stats;
    private readonly float[] _host;
    private readonly ITelemetryObserver _observer;

    /// <summary>Record every <see cref="Every"/>-th optimizer step.</summary>
    public int Every { get; }

    /// <summary>The v threshold (AdamW's ε²) of the fraction of v below it.</summary>
    public float VThreshold { get; }

    /// <param name="parameters">The parameters.</param>
    /// <param name="gradients">The gradients, laid out as the parameters.</param>
    /// <param name="rules">Each tensor's rule.</param>
    /// <param name="every">Record every N-th step (N ≥ 1).</param>
    /// <param name="observer">Receives each recorded step.</param>
    /// <param name="adamEps">AdamW's ε (the v threshold is ε²).</param>
    /// <param name="fused">Per tensor: true when its update kernel writes its statistics row itself (no copy, no separate pass).</param>
    public OptimizerTelemetry(TensorArena parameters, TensorArena gradients, IReadOnlyList<TensorRule> rules, int every, ITelemetryObserver observer, float adamEps, bool[] fused)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), every, "telemetry is recorded every N ≥ 1 steps");
        _be = parameters.Backend;
        _params = parameters;
        _grads = gradients;
        _rules = rules;
        _fused = fused;
        Every = every;
        _observer = observer;
        VThreshold = adamEps * adamEps;
        int floats = rules.Count * OptimizerStatisticSlots.Stride;
        _host = new float[floats];
        _previous = [.. Enumerable.Repeat(Tensor.None, rules.Count)];
        var copied = Enumerable.Range(0, rules.Count).Where(i => !fused[i]).ToArray();
        if (copied.Length > 0)
        {
            _previousArena = new TensorArena(_be, [.. copied.Select(i => parameters.Specs[i])]);
            for (int j = 0; j < copied.Length; j++) _previous[copied[j]] = _previousArena.Tensors[j];
        }
        try
        {
            _buffer = _be.Allocate((long)floats * 4);
        }
        catch
        {
            _previousArena?.Dispose();
            throw;
        }
        _stats = _buffer.AsTensor(DType.F32, floats);
    }

    /// <summary>Whether optimizer step <paramref name="step"/> (counting from 1) is recorded.</summary>
    public bool Records(int step) => step % Every == 0;

    /// <summary>Clears the buffer and keeps the unfused tensors' parameters as they are before the update (one device copy each).</summary>
    public void BeforeUpdate()
    {
        _be.Zero(_stats);
        for (int i = 0; i < _rules.Count; i++)
            if (!_fused[i]) _be.Copy(_previous[i], _params.Tensors[i]);
    }

    /// <summary>Tensor <paramref name="tensor"/>'s statistics row, slots [0, KernelSlots): where a fused update writes them.</summary>
    public Tensor Row(int tensor) => _stats.Slice((long)tensor * OptimizerStatisticSlots.Stride, OptimizerStatisticSlots.KernelSlots);

    /// <summary>The statistics slot <paramref name="slot"/> of tensor <paramref name="tensor"/>, as a one-element device tensor.</summary>
    public Tensor Slot(int tensor, int slot) => _stats.Slice((long)tensor * OptimizerStatisticSlots.Stride + slot, 1);

    /// <summary>Computes the unfused tensors' statistics on the device, reads the buffer once and hands the step to the observer.</summary>
    /// <param name="step">The optimizer step just taken.</param>
    /// <param name="momentum">Each tensor's momentum-like state (None where it has none).</param>
    /// <param name="adamV">Each tensor's AdamW second moment (None for other rules).</param>
    /// <param name="gradScale">The gradient scale the update used.</param>
    public void AfterUpdate(int step, IReadOnlyList<Tensor> momentum, IReadOnlyList<Tensor> adamV, float gradScale)
    {
        for (int i = 0; i < _rules.Count; i++)
            if (!_fused[i])
                _be.OptimizerStatistics(Row(i), _params.Tensors[i], _previous[i], _grads.Tensors[i], momentum[i], adamV[i], _params.Specs[i].Length, gradScale, VThreshold);
        _be.Download<float>(_stats, _host);
        var tensors = new TensorTelemetry[_rules.Count];
        for (int i = 0; i < tensors.Length; i++) tensors[i] = Build(i, !momentum[i].IsNone, !adamV[i].IsNone);
        _observer.OnStep(new TelemetryStep(step, tensors));
    }

    private TensorTelemetry Build(int i, bool hasMomentum, bool hasV)
    {
        int at = i * OptimizerStatisticSlots.Stride;
        double Get(int slot) => _host[at + slot];
        var rule = _rules[i];
        double gradNorm = Math.Sqrt(Get(OptimizerStatisticSlots.GradSq)), previousNorm = Math.Sqrt(Get(OptimizerStatisticSlots.PreviousSq));
        double updateNorm = Math.Sqrt(Get(OptimizerStatisticSlots.UpdateSq)), momentumNorm = Math.Sqrt(Get(OptimizerStatisticSlots.MomentumSq));
        double? cosine = hasMomentum && gradNorm > 0 && momentumNorm > 0 ? Get(OptimizerStatisticSlots.GradDotMomentum) / (gradNorm * momentumNorm) : null;
        int[] shape = _params.Specs[i].Shape;
        double? residual = rule.Optimizer == OptimizerKind.Muon
            ? NewtonSchulz.Residual(Get(OptimizerStatisticSlots.GramSq), Get(OptimizerStatisticSlots.OrthoSq), shape[0], shape[1])
            : null;
        return new TensorTelemetry(rule.Tensor, rule.Optimizer, gradNorm, Math.Sqrt(Get(OptimizerStatisticSlots.ParamSq)), updateNorm,
            previousNorm > 0 ? updateNorm / previousNorm : null,
            hasMomentum ? Get(OptimizerStatisticSlots.MomentumAbsMean) : null, cosine,
            hasV ? Get(OptimizerStatisticSlots.VMean) : null, hasV ? Get(OptimizerStatisticSlots.VMax) : null, hasV ? Get(OptimizerStatisticSlots.VBelow) : null,
            rule.Optimizer == OptimizerKind.Lion ? Get(OptimizerStatisticSlots.SignAgreement) : null, residual);
    }

    public void Dispose()
    {
        _previousArena?.Dispose();
        _buffer.Dispose();
    }
}
