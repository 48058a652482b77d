using RlhfCore.Optim;

namespace RlhfCore.Embedding;

/// <summary>An optimizer behind an <c>rlhf_optimizer</c> handle, with the clipper its steps use.</summary>
internal sealed class EmbeddedOptimizer(EmbeddedModel model, GroupedOptimizer rule) : IDisposable
{
    /// <summary>The model it updates.</summary>
    public EmbeddedModel Model { get; } = model;
    /// <summary>The update rule chosen by name (AdamW, SGD, Lion or Muon).</summary>
    public GroupedOptimizer Rule { get; } = rule;
    /// <summary>Reads the global gradient norm.</summary>
    public GradientClipper Clipper { get; } = new(model.Model.Backend);

    /// <inheritdoc/>
    public void Dispose()
    {
        Rule.Dispose();
        Clipper.Dispose();
    }
}
