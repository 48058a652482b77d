using RlhfCore.Backends;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// AdamW over a parameter arena: first and second moments live in two arenas laid out from the same
/// table, so they line up tensor for tensor with the parameters and gradients. Weight decay applies to
/// 2-D weights only (<see cref="GptParameters.IsDecayed"/>). The step count is part of the state.
/// </summary>
public sealed class AdamW : IOptimizer
{
    private readonly IBackend _be;
    private readonly TensorArena _params, _grads;

    /// <summary>Hyperparameters.</summary>
    public AdamWOptions Options { get; }
    /// <summary>First moments.</summary>
    public TensorArena M { get; }
    /// <summary>Second moments.</summary>
    public TensorArena V { get; }
    /// <summary>Steps taken so far (the next step's bias correction uses Step + 1).</summary>
    public int Step { get; set; }
    /// <inheritdoc/>
    public IReadOnlyList<(string Name, Tensor Tensor)> State { get; }

    /// <summary>Moments for <paramref name="parameters"/>, zeroed, at step 0.</summary>
    public AdamW(TensorArena parameters, TensorArena gradients, AdamWOptions options)
    {
        _be = parameters.Backend;
        _params = parameters;
        _grads = gradients;
        Options = options.Validate();
        M = new TensorArena(_be, parameters.Specs);
        V = new TensorArena(_be, parameters.Specs);
        State = [.. TensorFile.Named("adam.m.", M), .. TensorFile.Named("adam.v.", V)];
    }

    /// <summary>One update with learning rate <paramref name="lr"/>, gradients multiplied by <paramref name="gradScale"/> first.</summary>
    public void Update(float lr, float gradScale = 1f)
    {
        Step++;
        var o = Options;
        for (int i = 0; i < _params.Specs.Count; i++)
        {
            var spec = _params.Specs[i];
            float wd = GptParameters.IsDecayed(spec) ? o.WeightDecay : 0f;
            _be.AdamWUpdate(_params.Tensors[i], _grads.Tensors[i], M.Tensors[i], V.Tensors[i], spec.Length,
                lr, o.Beta1, o.Beta2, o.Eps, wd, gradScale, Step);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        M.Dispose();
        V.Dispose();
    }
}
