using System.Globalization;
using RlhfCore.Optim;

namespace RlhfCore.Embedding;

/// <summary>
/// An optimizer chosen by name with "key=value" settings (separated by commas or spaces), so that a host
/// names the update rule and its hyperparameters in one string and new optimizers need no new C function.
/// </summary>
internal static class OptimizerSettings
{
    /// <summary>The optimizers the engine has (AdamW today).</summary>
    public static readonly string[] Names = ["adamw"];

    /// <summary>AdamW's options from <paramref name="settings"/> (null or empty: the defaults).</summary>
    public static AdamWOptions AdamW(string name, string? settings)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown optimizer '{name}': the engine has {string.Join(", ", Names)}");
        var o = new AdamWOptions();
        var seen = new HashSet<string>();
        foreach (var item in (settings ?? "").Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = item.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"optimizer setting '{item}' is not key=value");
            string key = item[..eq];
            if (!float.TryParse(item[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                throw new ArgumentException($"optimizer setting {key}: '{item[(eq + 1)..]}' is not a number");
            if (!seen.Add(key)) throw new ArgumentException($"optimizer setting {key} is given twice");
            o = key switch
            {
                "beta1" => o with { Beta1 = v },
                "beta2" => o with { Beta2 = v },
                "eps" => o with { Eps = v },
                "weight_decay" => o with { WeightDecay = v },
                _ => throw new ArgumentException($"unknown {name} setting '{key}' (beta1, beta2, eps, weight_decay)"),
            };
        }
        return o.Validate();
    }
}
