using RlhfCore.Rl;

namespace RlhfCore.Training.Ppo;

/// <summary>
/// Sums of the loss statistics over the minibatches of one optimization phase that updated the weights, with
/// the count of those skipped for a non-finite loss or norm; a struct, so the phase allocates nothing.
/// </summary>
internal struct MinibatchTotals
{
    public int Count, Skipped, EpochsRun;
    public double Loss, PolicyLoss, ValueLoss, KlLoss, Entropy, ClipFrac, ValueClipFrac, ApproxKl, Ratio, RatioSquared, DualClipFrac;

    /// <summary>Adds one minibatch that updated the weights.</summary>
    public void Add(in PolicyLossStats s)
    {
        Count++;
        Loss += s.Loss; PolicyLoss += s.PolicyLoss; ValueLoss += s.ValueLoss; KlLoss += s.KlLoss; Entropy += s.Entropy;
        ClipFrac += s.ClipFrac; ValueClipFrac += s.ValueClipFrac; ApproxKl += s.ApproxKl; Ratio += s.Ratio; RatioSquared += s.Ratio * s.Ratio; DualClipFrac += s.DualClipFrac;
    }
}
