using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;
using RlhfCore.Training.Reward;
using RlhfCore.Training.Sft;

namespace RlhfCore.Embedding;

// The reusable buffers of each kind of call, built once per batch shape and cached on the model
// (EmbeddedModel's workspaces), so a host's training loop allocates them once.

/// <summary>Forward and SFT: the LM step (its activations) and a host batch of the same shape.</summary>
internal sealed class LmWorkspace(GptModel model, int B, int T) : IDisposable
{
    public LmStep Step { get; } = new(model, B, T);
    public SftBatch Batch { get; } = new(B, T);
    public void Dispose() => Step.Activations.Dispose();
}

/// <summary>Reward passes: the reward step and its host batch.</summary>
internal sealed class RewardWorkspace(GptModel model, int rows, int T) : IDisposable
{
    public RewardStep Step { get; } = new(model, rows, T);
    public RewardBatch Batch { get; } = new(rows, T);
    public double[] Gradient { get; } = new double[rows];
    public float[] HostGradient { get; } = new float[rows];
    public void Dispose() => Step.Dispose();
}

/// <summary>DPO passes: the step (with the settings of its key) and its host batch.</summary>
internal sealed class DpoWorkspace(GptModel policy, DpoKey key) : IDisposable
{
    public DpoStep Step { get; } = new(policy, key.Reference, key.Pairs, key.T, key.Kind, key.Beta, key.LabelSmoothing);
    public DpoBatch Batch { get; } = new(key.Pairs, key.T);
    public void Dispose() => Step.Dispose();
}
