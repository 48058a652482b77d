using RlhfCore.Backends;
using RlhfCore.IO;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// Every parameter tensor updated by its own <see cref="TensorRule"/>: AdamW, SGD or Lion, each a backend
/// kernel family, with the group's learning-rate multiplier and weight decay. Each rule's state lives in
/// arenas laid out over the tensors that use it, named for the checkpoint as <c>adam.m.</c>/<c>adam.v.</c>
/// (the names AdamW-only checkpoints already use), <c>sgd.momentum.</c> and <c>lion.m.</c> + tensor name.
/// With every tensor on AdamW and no groups, the update is the same kernel calls in the same order as
/// <see cref="Optim.AdamW"/>, so results are bit for bit the same.
/// </summary>
public sealed class GroupedOptimizer : IOptimizer
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads;
    private readonly Dictionary<string, TensorArena> _arenas = [];
    private readonly Tensor[] _state1, _state2;

    /// <summary>The resolved rule of each parameter tensor, in table order.</summary>
    public IReadOnlyList<TensorRule> Rules { get; }
    /// <summary>The configuration the rules came from.</summary>
    public OptimizerConfig Config { get; }
    /// <inheritdoc/>
    public int Step { get; set; }
    /// <inheritdoc/>
    public IReadOnlyList<(string Name, Tensor Tensor)> State { get; }

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
        var state = new List<(string, Tensor)>();
        try
        {
            Allocate(OptimizerKind.AdamW, "adam.m.", _state1, state);
            Allocate(OptimizerKind.AdamW, "adam.v.", _state2, state);
            Allocate(OptimizerKind.Sgd, "sgd.momentum.", _state1, state);
            Allocate(OptimizerKind.Lion, "lion.m.", _state1, state);
        }
        catch
        {
            Dispose();
            throw;
        }
        State = state;
    }

    private void Allocate(OptimizerKind kind, string prefix, Tensor[] slot, List<(string, Tensor)> state)
    {
        var index = Enumerable.Range(0, Rules.Count).Where(i => Rules[i].Optimizer == kind).ToArray();
        if (index.Length == 0) return;
        var arena = new TensorArena(_be, index.Select(i => _params.Specs[i]).ToArray());
        _arenas.Add(prefix, arena);
        for (int j = 0; j < index.Length; j++) slot[index[j]] = arena.Tensors[j];
        state.AddRange(TensorFile.Named(prefix, arena));
    }

    /// <summary>The arena of one state (prefix <c>adam.m.</c>, <c>adam.v.</c>, <c>sgd.momentum.</c> or <c>lion.m.</c>), null when no tensor uses it.</summary>
    public TensorArena? Arena(string prefix) => _arenas.GetValueOrDefault(prefix);

    /// <inheritdoc/>
    public void Update(float lr, float gradScale = 1f)
    {
        Step++;
        var c = Config;
        for (int i = 0; i < Rules.Count; i++)
        {
            var r = Rules[i];
            Tensor p = _params.Tensors[i], g = _grads.Tensors[i];
            long n = _params.Specs[i].Length;
            float tensorLr = lr * r.LrScale;
            switch (r.Optimizer)
            {
                case OptimizerKind.AdamW:
                    _be.AdamWUpdate(p, g, _state1[i], _state2[i], n, tensorLr, c.AdamW.Beta1, c.AdamW.Beta2, c.AdamW.Eps, r.WeightDecay, gradScale, Step);
                    break;
                case OptimizerKind.Sgd:
                    _be.SgdUpdate(p, g, _state1[i], n, tensorLr, c.Sgd.Momentum, r.WeightDecay, gradScale, c.Sgd.Nesterov);
                    break;
                case OptimizerKind.Lion:
                    _be.LionUpdate(p, g, _state1[i], n, tensorLr, c.Lion.Beta1, c.Lion.Beta2, r.WeightDecay, gradScale);
                    break;
                default:
                    throw new InvalidOperationException($"unknown optimizer {r.Optimizer} for {r.Tensor}");
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var a in _arenas.Values) a.Dispose();
        _arenas.Clear();
    }
}
