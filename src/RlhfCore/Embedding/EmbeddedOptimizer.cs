using RlhfCore.Optim;

namespace RlhfCore.Embedding;

/// <summary>An optimizer behind an <c>rlhf_optimizer</c> handle, with the clipper its steps use.</summary>
internal sealed class EmbeddedOptimizer(EmbeddedModel model, AdamW adamW) : IDisposable
{
    /// <summary>The model it updates.</summary>
    public EmbeddedModel Model { get; } = model;
    /// <summary>The update rule (AdamW is the only one the engine has today).</summary>
    public AdamW AdamW { get; } = adamW;
    /// <summary>Reads the global gradient norm.</summary>
    public GradientClipper Clipper { get; } = new(model.Model.Backend);

    /// <inheritdoc/>
    public void Dispose()
    {
        AdamW.Dispose();
        Clipper.Dispose();
    }
}
