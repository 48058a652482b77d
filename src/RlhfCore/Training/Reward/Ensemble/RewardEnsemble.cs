using RlhfCore.Backends;
using RlhfCore.IO;
using RlhfCore.Model;

namespace RlhfCore.Training.Reward.Ensemble;

/// <summary>
/// K reward models loaded together (K = 1 for a plain model file). Each member is a full model with its
/// own trunk: members trained from their own seed and bootstrap resample differ in every weight, so no
/// computation is shared between them; scoring costs K forward passes.
/// </summary>
public sealed class RewardEnsemble : IDisposable
{
    /// <summary>The members, in manifest order.</summary>
    public IReadOnlyList<GptModel> Members { get; }

    /// <summary>Where the ensemble was loaded from.</summary>
    public string Source { get; }

    /// <summary>Members.</summary>
    public int Count => Members.Count;

    private RewardEnsemble(IReadOnlyList<GptModel> members, string source)
    {
        Members = members;
        Source = source;
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
            return new RewardEnsemble(models, path);
        }
        catch
        {
            foreach (var m in models) m.Dispose();
            throw;
        }
    }

    /// <summary>An ensemble over models already loaded (not owned by the caller any more: disposed with the ensemble).</summary>
    public static RewardEnsemble Of(IReadOnlyList<GptModel> members, string source) =>
        members.Count > 0 ? new RewardEnsemble(members, source) : throw new ArgumentException("an ensemble needs at least one member", nameof(members));

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var m in Members) m.Dispose();
    }
}
