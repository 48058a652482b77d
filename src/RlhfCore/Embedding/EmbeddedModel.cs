using System.Runtime.InteropServices;
using RlhfCore.Model;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Embedding;

/// <summary>
/// A model behind an <c>rlhf_model</c> handle: the <see cref="GptModel"/>, the workspaces its calls reuse
/// (one per kind of call, rebuilt when the batch shape changes), and the tensor names as native UTF-8
/// strings, which live exactly as long as the model.
/// </summary>
internal sealed class EmbeddedModel : IDisposable
{
    private readonly nint[] _names;

    /// <summary>The backend the model lives on.</summary>
    public EmbeddedBackend Owner { get; }
    /// <summary>The model.</summary>
    public GptModel Model { get; }
    /// <summary>Live optimizers on this model; it cannot be destroyed while there are any.</summary>
    public int Optimizers { get; set; }

    /// <summary>Forward and SFT passes, keyed by [batch, seq_len].</summary>
    public Workspace<(int B, int T), LmWorkspace> Lm { get; } = new();
    /// <summary>Reward passes, keyed by [rows, seq_len].</summary>
    public Workspace<(int Rows, int T), RewardWorkspace> Reward { get; } = new();
    /// <summary>DPO passes, keyed by the reference, the shape and the loss settings.</summary>
    public Workspace<DpoKey, DpoWorkspace> Dpo { get; } = new();
    /// <summary>Generation caches, keyed by [batch, longest prompt].</summary>
    public Workspace<(int B, int P), GptGenerator> Generator { get; } = new();

    /// <summary>Wraps <paramref name="model"/>, which this object now owns.</summary>
    public EmbeddedModel(EmbeddedBackend owner, GptModel model)
    {
        Owner = owner;
        Model = model;
        _names = model.Table.Select(s => Marshal.StringToCoTaskMemUTF8(s.Name)).ToArray();
    }

    /// <summary>The native UTF-8 name of tensor <paramref name="index"/>.</summary>
    public nint NameOf(int index) => _names[index];

    /// <inheritdoc/>
    public void Dispose()
    {
        Lm.Dispose();
        Reward.Dispose();
        Dpo.Dispose();
        Generator.Dispose();
        Model.Dispose();
        foreach (var p in _names) Marshal.FreeCoTaskMem(p);
    }
}

/// <summary>What a cached <see cref="DpoStep"/> was built for.</summary>
internal readonly record struct DpoKey(GptModel Reference, int Pairs, int T, DpoLossKind Kind, double Beta, double LabelSmoothing);
