using RlhfCore.Backends;
using RlhfCore.IO;
using RlhfCore.Model;

namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// K reward models loaded together (K = 1 for a plain model file). Each member is a full model. Members
/// trained with their own trunks differ in every weight, so scoring costs K forward passes; members of a
/// shared-trunk ensemble (<see cref="SharedTrunk"/>, checked at load) differ only in their heads, and
/// scoring runs the trunk once.
/// </summary>
public sealed class RewardEnsemble : IDisposable
{
    /// <summary>The members, in manifest order.</summary>
    public IReadOnlyList<GptModel> Members { get; }

    /// <summary>Where the ensemble was loaded from.</summary>
    public string Source { get; }

    /// <summary>Members.</summary>
    public int Count => Members.Count;

    /// <summary>True when the members share member 0's trunk and differ only in their reward heads.</summary>
    public bool SharedTrunk { get; }

    private RewardEnsemble(IReadOnlyList<GptModel> members, string source, bool sharedTrunk)
    {
        Members = members;
        Source = source;
        SharedTrunk = sharedTrunk;
    }

    /// <summary>Loads <paramref name="path"/>: an ensemble folder (or its ensemble.json), or one model file with a reward head.</summary>
    public static RewardEnsemble Load(string path, IBackend backend)
    {
        var models = new List<GptModel>();
        try
        {
            foreach (var file in EnsembleManifest.MemberFiles(path))
            {
                var model = ModelFiles.Load(file, backend);
                models.Add(model);
                if (!model.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException($"{file} has no reward head (score.weight); train one with rlhf reward");
                if (model.Config != models[0].Config) throw new ArgumentException($"{file}'s architecture differs from the first member's; an ensemble's members share one architecture");
            }
            bool shared = EnsembleManifest.IsEnsemble(path) && EnsembleManifest.Read(path).SharedTrunk;
            if (shared)
                for (int k = 1; k < models.Count; k++)
                    if (!SameTrunk(models[0], models[k]))
                        throw new ArgumentException($"{path}: the manifest says the members share one trunk, but member {k}'s trunk differs from member 0's");
            return new RewardEnsemble(models, path, shared);
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
    }

    /// <summary>An ensemble over models already loaded (not owned by the caller any more: disposed with the ensemble).</summary>
    public static RewardEnsemble Of(IReadOnlyList<GptModel> members, string source) =>
        members.Count > 0 ? new RewardEnsemble(members, source, sharedTrunk: false) : throw new ArgumentException("an ensemble needs at least one member", nameof(members));

    /// <summary>True when every parameter but the reward head is bit-identical.</summary>
    private static bool SameTrunk(GptModel a, GptModel b)
    {
        for (int i = 0; i < a.Table.Count; i++)
        {
            if (a.Table[i].Name == GptParameters.RewardWeight) continue;
            var x = new float[a.Parameters.Tensors[i].Length];
            var y = new float[x.Length];
            a.Backend.Download<float>(a.Parameters.Tensors[i], x);
            b.Backend.Download<float>(b.Parameters.Tensors[i], y);
            if (!x.AsSpan().SequenceEqual(y)) return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var m in Members) m.Dispose();
    }
}
