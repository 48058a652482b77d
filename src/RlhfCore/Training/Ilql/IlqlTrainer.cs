using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tensors;
using RlhfCore.Training.Core;

namespace RlhfCore.Training.Ilql;

/// <summary>One optimizer step's numbers, as logged.</summary>
/// <param name="Step">0-based step.</param>
/// <param name="Train">Means over the step's micro-batches.</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="GradNorm">Global gradient norm (trunk, LM head and ILQL heads) before clipping.</param>
/// <param name="Skipped">True when the loss or the norm was not finite and the update was skipped.</param>
/// <param name="ExamplesPerSecond">Throughput.</param>
/// <param name="Eval">Held-out means when this step evaluated.</param>
public sealed record IlqlStepReport(int Step, IlqlStats Train, float Lr, float GradNorm, bool Skipped, double ExamplesPerSecond, IlqlStats? Eval);

/// <summary>
/// ILQL (Snell et al. 2022, as trlx trains it) on <see cref="OptimizerLoop"/>: the policy's trunk and LM head (loaded from an SFT
/// checkpoint) and <see cref="IlqlHeads"/> on its final hidden states train together under one optimizer; each micro-batch runs
/// the trunk, the heads and <see cref="IlqlLoss"/> (TD, expectile, CQL and the AWAC LM loss) on rows of
/// <c>[prompt | completion]</c> whose actions are the completion's tokens and whose reward is at the last one, then the heads'
/// backward and the trunk's from the LM dlogits plus the heads' hidden-state gradient (<see cref="BackwardSources.Hidden"/>).
/// Every <see cref="IlqlSettings.TargetSyncEvery"/> optimizer steps the target heads move toward the Q heads (Polyak, α).
/// Resume is bit for bit: the checkpoint holds the policy, the optimizer state of trunk and heads, the data position, and the
/// heads with their targets (<see cref="IlqlHeadsFile"/> in the step folder). A step allocates nothing.
/// </summary>
public sealed class IlqlTrainer : IDisposable, IStepStage
{
    /// <summary>The heads' names in the optimizer's table and state (<c>adam.m.ilql.q0.weight</c>, …).</summary>
    public const string OptimizerPrefix = "ilql.";

    private readonly GptModel _policy;
    private readonly IReadOnlyList<IlqlSequence> _train, _eval;
    private readonly IlqlOptions _o;
    private readonly IlqlSettings _s;
    private readonly IlqlLoss _loss;
    private readonly GptActivations _acts;
    private readonly TensorArena _buffers;
    private readonly Tensor _actions, _dh;
    private readonly IlqlBatch _batch;
    private readonly ShuffleSampler _sampler;
    private readonly OptimizerLoop _loop;
    private IlqlStats _sum;
    private int _microBatches;

    /// <summary>The Q, target Q and V heads (their parameters are part of a checkpoint).</summary>
    public IlqlHeads Heads { get; }
    /// <summary>The one optimizer over the policy and the trainable heads.</summary>
    public GroupedOptimizer Optimizer => _loop.Optimizer;
    /// <summary>Steps completed so far.</summary>
    public int StepsDone => _loop.StepsDone;
    /// <summary>Steps skipped because the loss or gradient was not finite.</summary>
    public int StepsSkipped => _loop.Progress.StepsSkipped;

    /// <summary>A run of <paramref name="options"/> training <paramref name="policy"/> and fresh heads (initialized from the seed).</summary>
    public IlqlTrainer(GptModel policy, IReadOnlyList<IlqlSequence> train, IReadOnlyList<IlqlSequence>? eval, IlqlOptions options)
    {
        _o = options.Validate();
        _s = options.Settings;
        if (train.Count == 0) throw new ArgumentException("no ILQL training examples");
        if (options.SeqLen > policy.Config.MaxSeqLen)
            throw new OptionException("--seq-len", $"{options.SeqLen} is longer than the model's context of {policy.Config.MaxSeqLen} tokens");
        _policy = policy;
        _train = train;
        _eval = eval ?? [];
        int B = options.Batch, T = options.SeqLen, N = B * T, C = policy.Config.Channels;
        var be = policy.Backend;
        Heads = new IlqlHeads(be, C, policy.Config.VocabSize, N, _s.TwoQs);
        Heads.InitializeWeights(options.Seed ^ 0x11C1);
        _loss = new IlqlLoss(be, _s, N);
        _acts = new GptActivations(be, policy.Config, B, T);
        _buffers = new TensorArena(be, [new("actions", DType.I32, [N]), new("dh", DType.F32, [N, C])]);
        _actions = _buffers["actions"];
        _dh = _buffers["dh"];
        _batch = new IlqlBatch(B, T);
        _sampler = new ShuffleSampler(train.Count, options.Seed);
        _loop = new OptimizerLoop(policy, options, _sampler, rng: null, extra: (OptimizerPrefix, Heads.TrainableParameters, Heads.Gradients));
    }

    /// <summary>The state a checkpoint needs besides the tensors (policy, optimizer state, heads).</summary>
    public TrainerState CaptureState() => _loop.Progress.Capture();

    /// <summary>Restores <see cref="CaptureState"/>'s output (the tensors are loaded separately).</summary>
    public void RestoreState(TrainerState state) => _loop.Progress.Restore(state);

    /// <summary>Saves a resumable checkpoint into <paramref name="store"/>: the policy, the optimizer, the state and the heads file.</summary>
    public string SaveCheckpoint(CheckpointStore store) =>
        store.Save(_policy, Optimizer, CaptureState(), dir => IlqlHeadsFile.Save(Path.Combine(dir, IlqlHeadsFile.FileName), Heads, _policy.Backend));

    /// <summary>Loads the newest checkpoint of <paramref name="store"/> into the policy, the optimizer, the heads and the state.</summary>
    public void LoadCheckpoint(CheckpointStore store)
    {
        RestoreState(store.Load(_policy, Optimizer));
        LoadHeads(Path.Combine(store.LatestDirectory()!, IlqlHeadsFile.FileName));
    }

    /// <summary>Fills the heads (targets included) from an <see cref="IlqlHeadsFile"/>.</summary>
    public void LoadHeads(string path) => IlqlHeadsFile.LoadInto(path, Heads, _policy.Backend);

    /// <summary>
    /// Trains until <see cref="TrainerOptions.Steps"/> or until <paramref name="cancel"/> fires (the step in progress finishes
    /// first). <paramref name="onStep"/> sees every step; <paramref name="onCheckpoint"/> is asked to save at the configured
    /// interval and at the end.
    /// </summary>
    public void Run(CancellationToken cancel, Action<IlqlStepReport> onStep, Action<IlqlTrainer> onCheckpoint) =>
        _loop.Run(cancel, this, _o.GradAccum, _o.EvalEvery,
            (r, evaluate) => onStep(new IlqlStepReport(SyncTargets(r).Step, Mean(), r.Lr, r.GradNorm, r.Skipped, _o.Batch * _o.GradAccum / r.Seconds,
                evaluate && _eval.Count > 0 ? Evaluate() : null)),
            () => onCheckpoint(this));

    /// <summary>One optimizer step, without reporting (what <see cref="Run"/> does per step).</summary>
    public StepResult Step() => SyncTargets(_loop.Step(this, _o.GradAccum));

    /// <summary>The Polyak update of the target heads, after every <see cref="IlqlSettings.TargetSyncEvery"/>-th step (trlx counts every step).</summary>
    private StepResult SyncTargets(StepResult r)
    {
        if (StepsDone % _s.TargetSyncEvery == 0) Heads.SyncTargets(_s.Alpha);
        return r;
    }

    void IStepStage.BeginStep()
    {
        _sum = default;
        _microBatches = 0;
    }

    double IStepStage.MicroBatch(int microBatches)
    {
        for (int i = 0; i < _o.Batch; i++) _batch.Write(i, _train[_sampler.Next()]);
        var stats = Pass(_o.Batch, backward: true, 1.0 / microBatches);
        _sum = Add(_sum, stats);
        _microBatches++;
        return stats.Loss / microBatches;
    }

    /// <summary>Forward (and backward) of the first <paramref name="rows"/> rows of the batch; returns the loss's stats.</summary>
    private IlqlStats Pass(int rows, bool backward, double gradScale)
    {
        var be = _policy.Backend;
        int T = _o.SeqLen, N = rows * T;
        be.Upload<int>(_acts.Tokens.Head(N), _batch.Tokens.AsSpan(0, N));
        be.Upload<int>(_acts.Positions.Head(N), _batch.Positions.AsSpan(0, N));
        be.Upload<int>(_acts.KeyMask.Head(N), _batch.KeyMask.AsSpan(0, N));
        be.Upload<int>(_actions.Head(N), _batch.Actions.AsSpan(0, N));
        _policy.Forward(_acts, rows, T);
        Heads.Forward(_acts.Lnf, N);
        var stats = _loss.Run(Heads, _actions.Head(N), _batch.Mask, _batch.Rewards, rows, T, _acts.Logits, _acts.Logits, backward, gradScale);
        if (!backward) return stats;
        Heads.Backward(_dh, _acts.Lnf, N, accumulateDh: false);
        _policy.Backward(_acts, rows, T, new BackwardSources(Logits: true, Hidden: _dh));
        return stats;
    }

    /// <summary>Means over the first <see cref="IlqlOptions.EvalBatches"/> batches of held-out examples (all when 0), with no gradient.</summary>
    public IlqlStats Evaluate()
    {
        if (_eval.Count == 0) throw new InvalidOperationException("no held-out examples to evaluate");
        IlqlStats sum = default;
        int limit = _o.EvalBatches == 0 ? _eval.Count : Math.Min(_eval.Count, _o.EvalBatches * _o.Batch), batches = 0;
        for (int start = 0; start < limit; start += _o.Batch, batches++)
        {
            int rows = Math.Min(limit, start + _o.Batch) - start;
            for (int i = 0; i < rows; i++) _batch.Write(i, _eval[start + i]);
            sum = Add(sum, Pass(rows, backward: false, 1));
        }
        return Scale(sum, 1.0 / batches);
    }

    private IlqlStats Mean() => Scale(_sum, 1.0 / Math.Max(1, _microBatches));

    private static IlqlStats Add(IlqlStats a, IlqlStats b) => new(a.Loss + b.Loss, a.LossQ + b.LossQ, a.LossV + b.LossV, a.LossCql + b.LossCql,
        a.LossAwac + b.LossAwac, a.MeanV + b.MeanV, a.MeanQ + b.MeanQ, a.MeanAwacWeight + b.MeanAwacWeight);

    private static IlqlStats Scale(IlqlStats a, double k) => new(a.Loss * k, a.LossQ * k, a.LossV * k, a.LossCql * k, a.LossAwac * k, a.MeanV * k, a.MeanQ * k, a.MeanAwacWeight * k);

    /// <inheritdoc/>
    public void Dispose()
    {
        _loop.Dispose();
        _buffers.Dispose();
        _acts.Dispose();
        _loss.Dispose();
        Heads.Dispose();
    }
}
