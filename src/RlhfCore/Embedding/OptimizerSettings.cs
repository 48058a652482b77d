using System.Globalization;
using RlhfCore.Optim;

namespace RlhfCore.Embedding;

/// <summary>
/// An optimizer chosen by name with "key=value" settings (separated by commas or spaces), so that a host
/// names the update rule and its hyperparameters in one string and new optimizers need no new C function.
/// The rule applies to every parameter tensor, except that Muon takes only the 2-D hidden weights and AdamW
/// the rest, as <c>--optimizer muon</c> does.
/// </summary>
internal static class OptimizerSettings
{
    /// <summary>The optimizers the engine has, by the names the C API takes.</summary>
    public static readonly string[] Names = ["adamw", "sgd", "lion", "muon", "adafactor"];

    /// <summary>The keys each optimizer takes; weight_decay is the decay of 2-D weights under every rule.</summary>
    private static readonly Dictionary<string, string[]> Keys = new()
    {
        ["adamw"] = ["beta1", "beta2", "eps", "weight_decay"],
        ["sgd"] = ["momentum", "nesterov", "weight_decay"],
        ["lion"] = ["beta1", "beta2", "weight_decay"],
        ["muon"] = ["momentum", "beta1", "beta2", "eps", "weight_decay"],
        ["adafactor"] = ["beta1", "decay_rate", "clip_threshold", "eps1", "eps2", "scale_parameter", "relative_step", "weight_decay"],
    };

    /// <summary>The optimizer <paramref name="name"/> with <paramref name="settings"/> (null or empty: its defaults).</summary>
    public static OptimizerConfig Parse(string name, string? settings)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown optimizer '{name}': the engine has {string.Join(", ", Names)}");
        var adamW = new AdamWOptions();
        var sgd = new SgdOptions();
        var lion = new LionOptions();
        var muon = new MuonOptions();
        var adafactor = new AdafactorOptions();
        var seen = new HashSet<string>();
        foreach (var item in (settings ?? "").Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"optimizer setting '{item}' is not key=value");
            string key = item[..eq];
            if (!Keys[name].Contains(key)) throw new ArgumentException($"unknown {name} setting '{key}' ({string.Join(", ", Keys[name])})");
            if (!float.TryParse(item[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                throw new ArgumentException($"optimizer setting {key}: '{item[(eq + 1)..]}' is not a number");
            if (!seen.Add(key)) throw new ArgumentException($"optimizer setting {key} is given twice");
            switch (name, key)
            {
                case (_, "weight_decay"): adamW = adamW with { WeightDecay = v }; break;
                case ("lion", "beta1"): lion = lion with { Beta1 = v }; break;
                case ("lion", "beta2"): lion = lion with { Beta2 = v }; break;
                case ("adafactor", "beta1"): adafactor = adafactor with { Beta1 = v }; break;
                case ("adafactor", "decay_rate"): adafactor = adafactor with { DecayRate = v }; break;
                case ("adafactor", "clip_threshold"): adafactor = adafactor with { ClipThreshold = v }; break;
                case ("adafactor", "eps1"): adafactor = adafactor with { Eps1 = v }; break;
                case ("adafactor", "eps2"): adafactor = adafactor with { Eps2 = v }; break;
                case ("adafactor", "scale_parameter"): adafactor = adafactor with { ScaleParameter = Flag(key, v, item) }; break;
                case ("adafactor", "relative_step"): adafactor = adafactor with { RelativeStep = Flag(key, v, item) }; break;
                case (_, "beta1"): adamW = adamW with { Beta1 = v }; break;
                case (_, "beta2"): adamW = adamW with { Beta2 = v }; break;
                case (_, "eps"): adamW = adamW with { Eps = v }; break;
                case ("sgd", "momentum"): sgd = sgd with { Momentum = v }; break;
                case ("sgd", "nesterov"): sgd = sgd with { Nesterov = Flag(key, v, item) }; break;
                case ("muon", "momentum"): muon = muon with { Momentum = v }; break;
            }
        }
        var kind = name switch
        {
            "sgd" => OptimizerKind.Sgd, "lion" => OptimizerKind.Lion, "muon" => OptimizerKind.Muon, "adafactor" => OptimizerKind.Adafactor, _ => OptimizerKind.AdamW,
        };
        adamW.Validate();
        return new OptimizerConfig(kind, adamW, sgd.Validate(), lion.Validate(), muon.Validate(), []) { Adafactor = adafactor.Validate() };
    }

    private static bool Flag(string key, float v, string item) =>
        v is 0 or 1 ? v == 1 : throw new ArgumentException($"optimizer setting {key} must be 0 or 1, got {item[(item.IndexOf('=') + 1)..]}");
}
