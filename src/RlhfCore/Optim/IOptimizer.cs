using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// An update rule over a model's parameter arena. Its state is a list of named tensors (for example
/// <c>adam.m.&lt;param&gt;</c>), which a checkpoint writes and reads by name, plus the step count.
/// </summary>
public interface IOptimizer : IDisposable
{
    /// <summary>Steps taken so far (restored on resume; AdamW's bias correction uses Step + 1).</summary>
    int Step { get; set; }

    /// <summary>One update with learning rate <paramref name="lr"/>, gradients multiplied by <paramref name="gradScale"/> first.</summary>
    void Update(float lr, float gradScale = 1f);

    /// <summary>Every state tensor with its checkpoint name, in a fixed order.</summary>
    IReadOnlyList<(string Name, Tensor Tensor)> State { get; }
}
