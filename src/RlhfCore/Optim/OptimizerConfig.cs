using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>How one parameter tensor is updated, after the groups are resolved (written to <c>config.json</c>).</summary>
/// <param name="Tensor">Hugging Face GPT-2 tensor name.</param>
/// <param name="Optimizer">Update rule.</param>
/// <param name="LrScale">Multiplier of the scheduled learning rate.</param>
/// <param name="WeightDecay">Weight decay (decoupled for AdamW and Lion, L2 for SGD).</param>
/// <param name="Group">The <c>--param-group</c> pattern that set it, or null for the run's defaults.</param>
/// <param name="Adafactor">The tensor's Adafactor settings (null under every other rule).</param>
public sealed record TensorRule(string Tensor, OptimizerKind Optimizer, float LrScale, float WeightDecay, string? Group, AdafactorOptions? Adafactor = null);

/// <summary>
/// The run's optimizer: a default update rule with each rule's hyperparameters, and parameter groups that
/// override the rule, learning-rate multiplier or weight decay by tensor name.
/// </summary>
/// <param name="Kind">Default update rule.</param>
/// <param name="AdamW">AdamW hyperparameters (its weight decay is the default decay of 2-D weights under every rule).</param>
/// <param name="Sgd">SGD hyperparameters.</param>
/// <param name="Lion">Lion hyperparameters.</param>
/// <param name="Muon">Muon hyperparameters.</param>
/// <param name="Groups">Parameter groups; none may match nothing and no two may overlap.</param>
public sealed record OptimizerConfig(OptimizerKind Kind, AdamWOptions AdamW, SgdOptions Sgd, LionOptions Lion, MuonOptions Muon, IReadOnlyList<ParameterGroup> Groups)
{
    /// <summary>Adafactor hyperparameters of the tensors on the Adafactor rule (a group's <c>adafactor_*</c> keys override them).</summary>
    public AdafactorOptions Adafactor { get; init; } = new();

    /// <summary>AdamW with <paramref name="adamW"/> on every tensor, no groups: the engine's update before groups existed.</summary>
    public static OptimizerConfig PlainAdamW(AdamWOptions adamW) => new(OptimizerKind.AdamW, adamW, new SgdOptions(), new LionOptions(), new MuonOptions(), []);

    /// <summary>
    /// The rule of each of <paramref name="specs"/>: its group's settings where one matches, else the default
    /// rule, learning-rate multiplier 1 and the default weight decay on 2-D weights only. Errors name the group.
    /// </summary>
    public TensorRule[] Resolve(IReadOnlyList<TensorSpec> specs)
    {
        AdamW.Validate();
        Sgd.Validate();
        Lion.Validate();
        Muon.Validate();
        Adafactor.Validate();
        int[] assigned = ParameterGroup.Assign(Groups, specs);
        var rules = new TensorRule[specs.Count];
        for (int i = 0; i < specs.Count; i++)
        {
            var g = assigned[i] >= 0 ? Groups[assigned[i]] : null;
            float defaultDecay = GptParameters.IsDecayed(specs[i]) ? AdamW.WeightDecay : 0f;
            var kind = g?.Optimizer ?? Kind;
            if (kind == OptimizerKind.Muon && !IsHiddenMatrix(specs[i]))
            {
                if (g?.Optimizer == OptimizerKind.Muon)
                    throw new ArgumentException($"--param-group '{g.Pattern}': optimizer=muon is for 2-D hidden weights (h.*), but it matches {specs[i].Name} [{string.Join(", ", specs[i].Shape)}]");
                kind = OptimizerKind.AdamW;
            }
            if (g?.Adafactor != null && kind != OptimizerKind.Adafactor)
                throw new ArgumentException($"--param-group '{g.Pattern}': adafactor_* keys need the adafactor rule, but {specs[i].Name} is on {kind.ToString().ToLowerInvariant()} (add optimizer=adafactor)");
            var adafactor = kind == OptimizerKind.Adafactor ? (g?.Adafactor?.Apply(Adafactor) ?? Adafactor).Validate() : null;
            rules[i] = new TensorRule(specs[i].Name, kind, g?.LrScale ?? 1f, g?.WeightDecay ?? defaultDecay, g?.Pattern, adafactor);
        }
        return rules;
    }

    /// <summary>A 2-D weight inside a transformer block (<c>h.N.…</c>): what Muon updates; embeddings and heads are not.</summary>
    public static bool IsHiddenMatrix(TensorSpec spec) => spec.Shape.Length == 2 && spec.Name.StartsWith("h.", StringComparison.Ordinal);
}
