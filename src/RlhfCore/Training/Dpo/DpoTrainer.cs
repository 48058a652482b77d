using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Rl;
using RlhfCore.Rl.Preference;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Dpo;

/// <summary>One optimizer step's numbers, as logged.</summary>
/// <param name="Step">0-based step.</param>
/// <param name="Train">Means over the step's pairs (all micro-batches).</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="Skipped">True when the loss or the norm was not finite and the update was skipped.</param>
/// <param name="PairsPerSecond">Throughput.</param>
/// <param name="Eval">Held-out metrics when this step evaluated.</param>
public sealed record DpoStepReport(int Step, DpoMetrics Train, float Lr, float GradNorm, bool Skipped, double PairsPerSecond, DpoMetrics? Eval);

/// <summary>
/// Direct preference optimization (DPO, or IPO) over in-memory tokenized pairs: the policy starts from the
/// SFT model and learns from a frozen reference (usually a second copy of the SFT model); AdamW with warmup
/// and cosine or constant rate, global-norm clipping, gradient accumulation (the loss is the mean over all
/// pairs of a step), periodic held-out evaluation, and checkpoints that resume bit for bit (policy
/// parameters, AdamW moments and step, the shuffled data position; the reference never changes). A step whose
/// loss or gradient norm is NaN or infinite is counted, reported, and never reaches the weights.
/// </summary>
public sealed class DpoTrainer : IDisposable, IStepStage
{
    private readonly GptModel _policy;
    private readonly GptModel? _reference;
    private readonly ReferenceSync _sync;
    private readonly IReadOnlyList<DpoExample> _train, _eval;
    private readonly DpoOptions _o;
    private readonly DpoStep _step;
    private readonly DpoBatch _batch;
    private readonly List<DpoExample> _picked;
    private readonly ShuffleSampler _sampler;
    private readonly OptimizerLoop _loop;
    private readonly DpoMetricsSum _metrics = new();

    /// <summary>The optimizer (its state and step are part of a checkpoint).</summary>
    public GroupedOptimizer Optimizer => _loop.Optimizer;
    /// <summary>Steps completed so far.</summary>
    public int StepsDone => _loop.StepsDone;
    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int StepsSkipped => _loop.Progress.StepsSkipped;

    /// <summary>
    /// Prepares a run of <paramref name="options"/>: <paramref name="policy"/> is trained, <paramref name="reference"/> only read
    /// (null for the reference-free losses, ORPO and SimPO).
    /// </summary>
    public DpoTrainer(GptModel policy, GptModel? reference, IReadOnlyList<DpoExample> train, IReadOnlyList<DpoExample>? eval, DpoOptions options)
    {
        _o = options.Validate();
        if (train.Count == 0) throw new ArgumentException("no training pairs");
        _policy = policy;
        _reference = reference;
        _sync = new ReferenceSync(options.RefSyncEvery, options.RefMix);
        _train = train;
        _eval = eval ?? [];
        _step = new DpoStep(policy, reference, options.Batch, options.SeqLen, options.Loss, options.Beta, options.LabelSmoothing)
        {
            OrpoLambda = options.OrpoLambda, SimpoGamma = options.SimpoGamma, Kto = options.Kto,
        };
        if (options.Loss == DpoLossKind.Kto)
        {
            if (train.Any(e => e.Desirable == null)) throw new ArgumentException("--loss Kto trains on approvals ({\"prompt\",\"completion\",\"label\"}), not preference pairs");
            KtoLoss.CheckData(train.Count(e => e.Desirable == true), train.Count(e => e.Desirable == false), options.Kto, train[0].FilePath);
        }
        _batch = new DpoBatch(options.Batch, options.SeqLen);
        _picked = new List<DpoExample>(options.Batch);
        _sampler = new ShuffleSampler(train.Count, options.Seed);
        _loop = new OptimizerLoop(policy, options, _sampler);
    }

    /// <summary>The state a checkpoint needs besides the policy's parameters and moments.</summary>
    public TrainerState CaptureState() => _loop.Progress.Capture();

    /// <summary>Restores <see cref="CaptureState"/>'s output (parameters and moments are loaded separately).</summary>
    public void RestoreState(TrainerState state) => _loop.Progress.Restore(state);

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in
    /// progress finishes first). <paramref name="onStep"/> sees every step; <paramref name="onCheckpoint"/> is
    /// asked to save at the configured interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<DpoStepReport> onStep, Action<DpoTrainer> onCheckpoint) =>
        _loop.Run(cancel, this, _o.GradAccum, _o.EvalEvery,
            (r, evaluate) => onStep(new DpoStepReport(SyncReference(r).Step, _metrics.Mean(), r.Lr, r.GradNorm, r.Skipped, _o.Batch * _o.GradAccum / r.Seconds,
                evaluate && _eval.Count > 0 ? Evaluate() : null)),
            () => onCheckpoint(this));

    /// <summary>One optimizer step, without reporting (what <see cref="Run"/> does per step).</summary>
    public StepResult Step() => SyncReference(_loop.Step(this, _o.GradAccum));

    /// <summary>TR-DPO: mixes the policy into the reference when the step just completed is due (--ref-sync-every).</summary>
    private StepResult SyncReference(StepResult r)
    {
        if (_reference != null && _sync.DueAfter(StepsDone)) _sync.Mix(_policy, _reference);
        return r;
    }

    void IStepStage.BeginStep() => _metrics.Clear();

    double IStepStage.MicroBatch(int microBatches)
    {
        // The loss is the mean over all pairs of the step: each pair weighs 1 / (batch × micro-batches).
        double scale = 1.0 / ((double)_o.Batch * microBatches);
        _picked.Clear();
        for (int i = 0; i < _o.Batch; i++) _picked.Add(_train[_sampler.Next()]);
        Fill();
        return _step.Run(_batch, backward: true, scale, _metrics) * scale;
    }

    /// <summary>Means over the first <see cref="DpoOptions.EvalBatches"/> batches of held-out pairs (all when 0), always the same ones.</summary>
    public DpoMetrics Evaluate() => Evaluate(_eval);

    /// <summary>Means over <paramref name="pairs"/> (up to <see cref="DpoOptions.EvalBatches"/> batches) with no gradient.</summary>
    public DpoMetrics Evaluate(IReadOnlyList<DpoExample> pairs)
    {
        if (pairs.Count == 0) throw new InvalidOperationException("no held-out pairs to evaluate");
        var sum = new DpoMetricsSum();
        int limit = _o.EvalBatches == 0 ? pairs.Count : Math.Min(pairs.Count, _o.EvalBatches * _o.Batch);
        for (int start = 0; start < limit; start += _o.Batch)
        {
            _picked.Clear();
            for (int i = start; i < Math.Min(limit, start + _o.Batch); i++) _picked.Add(pairs[i]);
            Fill();
            _step.Run(_batch, backward: false, 0, sum);
        }
        return sum.Mean();
    }

    /// <summary>Fills the batch with the picked examples; for KTO each with its KL pair (<see cref="DpoBatch.FillWithKlPairs"/>).</summary>
    private void Fill()
    {
        if (_o.Loss == DpoLossKind.Kto) _batch.FillWithKlPairs(_picked);
        else _batch.Fill(_picked);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _step.Dispose();
        _loop.Dispose();
    }
}
