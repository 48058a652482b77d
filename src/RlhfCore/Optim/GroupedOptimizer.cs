using System.Diagnostics;
using RlhfCore.Backends;
using RlhfCore.IO;
using RlhfCore.Optim.Telemetry;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// Every parameter tensor updated by its own <see cref="TensorRule"/>: AdamW, SGD, Lion or Adafactor, each a backend
/// kernel family, or Muon (backend matmuls and linear combinations, see <see cref="NewtonSchulz"/>), with the group's learning-rate multiplier and weight decay. Each rule's state lives in
/// arenas laid out over the tensors that use it, named for the checkpoint as <c>adam.m.</c>/<c>adam.v.</c>
/// (the names AdamW-only checkpoints already use), <c>sgd.momentum.</c>, <c>lion.m.</c>, <c>muon.momentum.</c>, and for Adafactor
/// <c>adafactor.row.</c> [rows] and <c>adafactor.col.</c> [cols] (2-D tensors), <c>adafactor.v.</c> (other tensors) and
/// <c>adafactor.m.</c> (when its β1 &gt; 0) + tensor name.
/// With every tensor on AdamW and no groups, the update is the same kernel calls in the same order as
/// <see cref="Optim.AdamW"/>, so results are bit for bit the same.
/// </summary>
public sealed class GroupedOptimizer : IOptimizer
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads;
    private readonly Dictionary<string, TensorArena> _arenas = [];
    // Per tensor: _state1 is the momentum-like state (Adam m, SGD/Muon momentum, Lion m, Adafactor m), _state2 Adam's v or
    // Adafactor's row (or full) second moment, _state3 Adafactor's column second moment. Unused entries are Tensor.None.
    private readonly Tensor[] _state1, _state2, _state3;
    private readonly NewtonSchulz? _newtonSchulz;
    private readonly DeviceBuffer? _muonWork;
    private readonly Tensor[] _adamV;
    private OptimizerTelemetry? _telemetry;
    private bool[] _fusedStatistics = [];
    private bool _recording;

    /// <summary>The resolved rule of each parameter tensor, in table order.</summary>
    public IReadOnlyList<TensorRule> Rules { get; }
    /// <summary>The configuration the rules came from.</summary>
    public OptimizerConfig Config { get; }
    /// <inheritdoc/>
    public int Step { get; set; }
    /// <inheritdoc/>
    public IReadOnlyList<(string Name, Tensor Tensor)> State { get; }
    /// <summary>When set, <see cref="Update"/> synchronizes the device before and after its kernels and keeps the time in <see cref="LastUpdateMilliseconds"/> (benchmarks).</summary>
    public bool TimeUpdates { get; set; }
    /// <summary>Wall time of the last update's kernels with <see cref="TimeUpdates"/> on (on a recorded step: the fused AdamW statistics included, the copy and separate statistics pass of other rules excluded), else 0.</summary>
    public double LastUpdateMilliseconds { get; private set; }

    /// <summary>State for <paramref name="parameters"/> under <paramref name="config"/>, zeroed, at step 0.</summary>
    public GroupedOptimizer(TensorArena parameters, TensorArena gradients, OptimizerConfig config)
    {
        _be = parameters.Backend;
        _params = parameters;
        _grads = gradients;
        Config = config;
        Rules = config.Resolve(parameters.Specs);
        int n = parameters.Specs.Count;
        _state1 = new Tensor[n];
        _state2 = new Tensor[n];
        _state3 = new Tensor[n];
        var state = new List<(string, Tensor)>();
        try
        {
            Allocate(OptimizerKind.AdamW, "adam.m.", _state1, state);
            Allocate(OptimizerKind.AdamW, "adam.v.", _state2, state);
            Allocate(OptimizerKind.Sgd, "sgd.momentum.", _state1, state);
            Allocate(OptimizerKind.Lion, "lion.m.", _state1, state);
            Allocate(OptimizerKind.Muon, "muon.momentum.", _state1, state);
            Allocate("adafactor.row.", _state2, state, i => Rules[i].Optimizer == OptimizerKind.Adafactor && IsFactored(i) ? Spec(i, _params.Specs[i].Shape[0]) : null);
            Allocate("adafactor.col.", _state3, state, i => Rules[i].Optimizer == OptimizerKind.Adafactor && IsFactored(i) ? Spec(i, _params.Specs[i].Shape[1]) : null);
            Allocate("adafactor.v.", _state2, state, i => Rules[i].Optimizer == OptimizerKind.Adafactor && !IsFactored(i) ? _params.Specs[i] : null);
            Allocate("adafactor.m.", _state1, state, i => Rules[i].Adafactor is { Beta1: > 0 } ? _params.Specs[i] : null);
            var muon = Enumerable.Range(0, n).Where(i => Rules[i].Optimizer == OptimizerKind.Muon).Select(i => parameters.Specs[i]).ToArray();
            if (muon.Length > 0)
            {
                long largest = muon.Max(m => m.Length);
                _newtonSchulz = new NewtonSchulz(_be, largest, muon.Max(m => Math.Min(m.Shape[0], m.Shape[1])));
                _muonWork = _be.Allocate(largest * 4);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
        State = state;
        _adamV = [.. Enumerable.Range(0, n).Select(i => Rules[i].Optimizer == OptimizerKind.AdamW ? _state2[i] : Tensor.None)];
    }

    private void Allocate(OptimizerKind kind, string prefix, Tensor[] slot, List<(string, Tensor)> state) =>
        Allocate(prefix, slot, state, i => Rules[i].Optimizer == kind ? _params.Specs[i] : null);

    /// <summary>One state arena over the tensors <paramref name="spec"/> gives a shape for (null: the tensor has no such state).</summary>
    private void Allocate(string prefix, Tensor[] slot, List<(string, Tensor)> state, Func<int, TensorSpec?> spec)
    {
        var index = Enumerable.Range(0, Rules.Count).Where(i => spec(i) != null).ToArray();
        if (index.Length == 0) return;
        var arena = new TensorArena(_be, index.Select(i => spec(i)!).ToArray());
        _arenas.Add(prefix, arena);
        for (int j = 0; j < index.Length; j++) slot[index[j]] = arena.Tensors[j];
        state.AddRange(TensorFile.Named(prefix, arena));
    }

    /// <summary>Adafactor factors the second moment of 2-D tensors (rows and columns), as Hugging Face does for any tensor of rank ≥ 2.</summary>
    private bool IsFactored(int i) => _params.Specs[i].Shape.Length == 2;

    private TensorSpec Spec(int i, int length) => new(_params.Specs[i].Name, DType.F32, [length]);

    /// <summary>The arena of one state (prefix <c>adam.m.</c>, <c>adam.v.</c>, <c>sgd.momentum.</c> or <c>lion.m.</c>), null when no tensor uses it.</summary>
    public TensorArena? Arena(string prefix) => _arenas.GetValueOrDefault(prefix);

    /// <summary>
    /// Records telemetry on every <paramref name="every"/>-th optimizer step (steps <paramref name="every"/>, 2·<paramref name="every"/>, … of
    /// <see cref="Step"/>) and gives it to <paramref name="observer"/> right after that update. Computed on the device and read
    /// back as one buffer: AdamW tensors' statistics come out of their update kernel itself (the same pass over the data,
    /// no copy); the other rules' tensors are copied before the step and read by a separate statistics kernel, so they cost an
    /// arena of their size while attached. Unrecorded steps run the plain update kernels. Attaching again replaces the previous observer.
    /// </summary>
    public void AttachTelemetry(int every, ITelemetryObserver observer) => AttachTelemetry(every, observer, fuse: true);

    /// <summary><see cref="AttachTelemetry(int, ITelemetryObserver)"/>, with <paramref name="fuse"/> false taking the separate pass for AdamW too (tests compare the two).</summary>
    internal void AttachTelemetry(int every, ITelemetryObserver observer, bool fuse)
    {
        ArgumentNullException.ThrowIfNull(observer);
        bool[] fused = [.. Rules.Select(r => fuse && r.Optimizer == OptimizerKind.AdamW)];
        var telemetry = new OptimizerTelemetry(_params, _grads, Rules, every, observer, Config.AdamW.Eps, fused);
        _telemetry?.Dispose();
        _telemetry = telemetry;
        _fusedStatistics = fused;
    }

    /// <inheritdoc/>
    public void Update(float lr, float gradScale = 1f)
    {
        Step++;
        _recording = _telemetry?.Records(Step) == true;
        if (_recording) _telemetry!.BeforeUpdate();
        if (TimeUpdates) _be.Synchronize();
        long start = Stopwatch.GetTimestamp();
        UpdateTensors(lr, gradScale);
        if (TimeUpdates)
        {
            _be.Synchronize();
            LastUpdateMilliseconds = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        if (_recording) _telemetry!.AfterUpdate(Step, _state1, _adamV, gradScale);
        _recording = false;
    }

    private void UpdateTensors(float lr, float gradScale)
    {
        var c = Config;
        for (int i = 0; i < Rules.Count; i++)
        {
            var r = Rules[i];
            Tensor p = _params.Tensors[i], g = _grads.Tensors[i];
            long n = _params.Specs[i].Length;
            float tensorLr = lr * r.LrScale;
            switch (r.Optimizer)
            {
                case OptimizerKind.AdamW when _recording && _fusedStatistics[i]:
                    _be.AdamWUpdateWithStatistics(_telemetry!.Row(i), p, g, _state1[i], _state2[i], n, tensorLr, c.AdamW.Beta1, c.AdamW.Beta2, c.AdamW.Eps,
                        r.WeightDecay, gradScale, Step, _telemetry.VThreshold);
                    break;
                case OptimizerKind.AdamW:
                    _be.AdamWUpdate(p, g, _state1[i], _state2[i], n, tensorLr, c.AdamW.Beta1, c.AdamW.Beta2, c.AdamW.Eps, r.WeightDecay, gradScale, Step);
                    break;
                case OptimizerKind.Sgd:
                    _be.SgdUpdate(p, g, _state1[i], n, tensorLr, c.Sgd.Momentum, r.WeightDecay, gradScale, c.Sgd.Nesterov);
                    break;
                case OptimizerKind.Lion:
                    _be.LionUpdate(p, g, _state1[i], n, tensorLr, c.Lion.Beta1, c.Lion.Beta2, r.WeightDecay, gradScale);
                    break;
                case OptimizerKind.Adafactor:
                    AdafactorUpdate(i, p, g, r, tensorLr, gradScale);
                    break;
                case OptimizerKind.Muon:
                    MuonUpdate(i, p, g, _state1[i], _params.Specs[i].Shape, tensorLr, r.WeightDecay, gradScale);
                    break;
                default:
                    throw new InvalidOperationException($"unknown optimizer {r.Optimizer} for {r.Tensor}");
            }
        }
    }

    /// <summary>One Adafactor step of tensor <paramref name="i"/> (see <see cref="AdafactorOptions"/> and the backend's <c>AdafactorUpdate</c>).</summary>
    private void AdafactorUpdate(int i, Tensor p, Tensor g, TensorRule r, float lr, float gradScale)
    {
        var a = r.Adafactor!;
        int[] shape = _params.Specs[i].Shape;
        bool factored = IsFactored(i);
        int rows = factored ? shape[0] : 1, cols = factored ? shape[1] : checked((int)_params.Specs[i].Length);
        _be.AdafactorUpdate(p, g, _state2[i], _state3[i], _state1[i], rows, cols, a.LrAt(lr, Step), a.Beta1, a.Beta2At(Step),
            a.Eps1, a.Eps2, a.ClipThreshold, r.WeightDecay, gradScale, a.ScaleParameter);
    }

    /// <summary>
    /// One Muon step (KellerJordan/Muon, modded-nanogpt) on a [rows, cols] weight: buf = μ·buf + (1 − μ)·g;
    /// u = (1 − μ)·g + μ·buf (Nesterov); u ← NewtonSchulz(u); param = (1 − lr·wd)·param − lr·max(1, rows/cols)^0.5·u.
    /// </summary>
    private void MuonUpdate(int i, Tensor p, Tensor grad, Tensor buf, int[] shape, float lr, float weightDecay, float gradScale)
    {
        int rows = shape[0], cols = shape[1];
        long n = (long)rows * cols;
        float mu = Config.Muon.Momentum, gCoef = (1f - mu) * gradScale;
        var work = _muonWork!.AsTensor(DType.F32, (int)n);
        _be.LinearCombination(buf, buf, grad, mu, gCoef, n);
        _be.LinearCombination(work, grad, buf, gCoef, mu, n);
        _newtonSchulz!.Orthogonalize(work, rows, cols);
        if (_recording) _newtonSchulz.ResidualSums(work, rows, cols, _telemetry!.Slot(i, OptimizerStatisticSlots.GramSq), _telemetry.Slot(i, OptimizerStatisticSlots.OrthoSq));
        float scale = (float)Math.Sqrt(Math.Max(1.0, (double)rows / cols));
        _be.LinearCombination(p, p, work, 1f - lr * weightDecay, -lr * scale, n);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _telemetry?.Dispose();
        _telemetry = null;
        _newtonSchulz?.Dispose();
        _muonWork?.Dispose();
        foreach (var a in _arenas.Values) a.Dispose();
        _arenas.Clear();
    }
}
