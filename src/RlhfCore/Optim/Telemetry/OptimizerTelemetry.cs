using RlhfCore.Backends;
using RlhfCore.Tensors;

namespace RlhfCore.Optim.Telemetry;

/// <summary>
/// The device side of <see cref="GroupedOptimizer.AttachTelemetry"/>: a copy of the parameters from before the step
/// (for the step Δ) and one statistics buffer of <see cref="OptimizerStatisticSlots.Stride"/> floats per tensor, filled by
/// the backend's <c>OptimizerStatistics</c> (and Muon's residual sums) and read back to the host once per recorded step.
/// </summary>
internal sealed class OptimizerTelemetry : IDisposable
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads;
    private readonly IReadOnlyList<TensorRule> _rules;
    private readonly TensorArena _previous;
    private readonly DeviceBuffer _buffer;
    private readonly Tensor _stats;
    private readonly float[] _host;
    private readonly ITelemetryObserver _observer;
    private readonly float _vThreshold;

    /// <summary>Record every <see cref="Every"/>-th optimizer step.</summary>
    public int Every { get; }

    public OptimizerTelemetry(TensorArena parameters, TensorArena gradients, IReadOnlyList<TensorRule> rules, int every, ITelemetryObserver observer, float adamEps)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), every, "telemetry is recorded every N ≥ 1 steps");
        _be = parameters.Backend;
        _params = parameters;
        _grads = gradients;
        _rules = rules;
        Every = every;
        _observer = observer;
        _vThreshold = adamEps * adamEps;
        int floats = rules.Count * OptimizerStatisticSlots.Stride;
        _host = new float[floats];
        _previous = new TensorArena(_be, parameters.Specs);
        try
        {
            _buffer = _be.Allocate((long)floats * 4);
        }
        catch
        {
            _previous.Dispose();
            throw;
        }
        _stats = _buffer.AsTensor(DType.F32, floats);
    }

    /// <summary>Whether optimizer step <paramref name="step"/> (counting from 1) is recorded.</summary>
    public bool Records(int step) => step % Every == 0;

    /// <summary>Keeps the parameters as they are before the update (one device copy).</summary>
    public void BeforeUpdate()
    {
        _be.Zero(_stats);
        _be.Copy(_previous.All, _params.All);
    }

    /// <summary>The statistics slot <paramref name="slot"/> of tensor <paramref name="tensor"/>, as a one-element device tensor.</summary>
    public Tensor Slot(int tensor, int slot) => _stats.Slice((long)tensor * OptimizerStatisticSlots.Stride + slot, 1);

    /// <summary>Computes every tensor's statistics on the device, reads the buffer once and hands the step to the observer.</summary>
    /// <param name="step">The optimizer step just taken.</param>
    /// <param name="momentum">Each tensor's momentum-like state (None where it has none).</param>
    /// <param name="adamV">Each tensor's AdamW second moment (None for other rules).</param>
    /// <param name="gradScale">The gradient scale the update used.</param>
    public void AfterUpdate(int step, IReadOnlyList<Tensor> momentum, IReadOnlyList<Tensor> adamV, float gradScale)
    {
        for (int i = 0; i < _rules.Count; i++)
        {
            var row = _stats.Slice((long)i * OptimizerStatisticSlots.Stride, OptimizerStatisticSlots.KernelSlots);
            _be.OptimizerStatistics(row, _params.Tensors[i], _previous.Tensors[i], _grads.Tensors[i], momentum[i], adamV[i], _params.Specs[i].Length, gradScale, _vThreshold);
        }
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
        _previous.Dispose();
        _buffer.Dispose();
    }
}
