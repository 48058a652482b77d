using System.Globalization;
using System.Text.RegularExpressions;
using RlhfCore.Tensors;

namespace RlhfCore.Optim;

/// <summary>
/// One <c>--param-group "pattern:key=value,…"</c>: the tensors whose Hugging Face GPT-2 name matches
/// <paramref name="Pattern"/> take this group's settings; a setting left out keeps the run's default.
/// The pattern is a glob (<c>*</c> matches any run of characters, dots included) over the whole name, or
/// over a dot-separated prefix of it, so <c>wte</c> matches <c>wte.weight</c> and <c>h.*.attn.*</c> matches
/// <c>h.0.attn.c_attn.bias</c>.
/// </summary>
/// <param name="Pattern">Glob over tensor names.</param>
/// <param name="LrScale">Multiplier of the scheduled learning rate (key <c>lr</c>).</param>
/// <param name="WeightDecay">Weight decay of these tensors, 1-D ones included (key <c>weight_decay</c>).</param>
/// <param name="Optimizer">Update rule of these tensors (key <c>optimizer</c>).</param>
/// <param name="Adafactor">Adafactor settings of these tensors (keys <c>adafactor_*</c>; they need the Adafactor rule).</param>
public sealed record ParameterGroup(string Pattern, float? LrScale = null, float? WeightDecay = null, OptimizerKind? Optimizer = null, AdafactorOverrides? Adafactor = null)
{
    /// <summary>Parses one flag value; errors name the flag, the value and the bad part.</summary>
    public static ParameterGroup Parse(string text)
    {
        string Err(string why) => $"--param-group \"{text}\": {why} (expected \"pattern:key=value,…\" with keys lr, weight_decay, optimizer, {string.Join(", ", AdafactorOverrides.Keys)})";
        int colon = text.IndexOf(':');
        if (colon <= 0) throw new ArgumentException(Err("no pattern before ':'"));
        string pattern = text[..colon].Trim();
        var g = new ParameterGroup(pattern);
        foreach (string part in text[(colon + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) throw new ArgumentException(Err($"'{part}' is not key=value"));
            string key = part[..eq].Trim(), value = part[(eq + 1)..].Trim();
            g = key switch
            {
                "lr" => g with { LrScale = Number(value, 0, 1e3f, key, Err) },
                "weight_decay" => g with { WeightDecay = Number(value, 0, 1, key, Err) },
                "optimizer" => g with { Optimizer = Enum.TryParse<OptimizerKind>(value, ignoreCase: true, out var k) && Enum.IsDefined(k) ? k
                    : throw new ArgumentException(Err($"optimizer '{value}' is not one of {string.Join(", ", Enum.GetNames<OptimizerKind>()).ToLowerInvariant()}")) },
                "adafactor_beta1" => g with { Adafactor = (g.Adafactor ?? new()) with { Beta1 = Number(value, 0, 0.999999f, key, Err) } },
                "adafactor_decay_rate" => g with { Adafactor = (g.Adafactor ?? new()) with { DecayRate = Number(value, 1e-6f, 1, key, Err) } },
                "adafactor_clip_threshold" => g with { Adafactor = (g.Adafactor ?? new()) with { ClipThreshold = Number(value, 1e-6f, 1e6f, key, Err) } },
                "adafactor_scale_parameter" => g with { Adafactor = (g.Adafactor ?? new()) with { ScaleParameter = Flag(value, key, Err) } },
                "adafactor_relative_step" => g with { Adafactor = (g.Adafactor ?? new()) with { RelativeStep = Flag(value, key, Err) } },
                _ => throw new ArgumentException(Err($"unknown key '{key}'")),
            };
        }
        if (g.LrScale == null && g.WeightDecay == null && g.Optimizer == null && g.Adafactor == null) throw new ArgumentException(Err("no settings"));
        return g;
    }

    private static float Number(string value, float min, float max, string key, Func<string, string> err) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out float f) && f >= min && f <= max ? f
            : throw new ArgumentException(err($"{key}={value} is not a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}]"));

    private static bool Flag(string value, string key, Func<string, string> err) => value switch
    {
        "1" or "true" => true,
        "0" or "false" => false,
        _ => throw new ArgumentException(err($"{key}={value} is not 0, 1, true or false")),
    };

    /// <summary>Whether <paramref name="tensorName"/> is in this group.</summary>
    public bool Matches(string tensorName) =>
        Regex.IsMatch(tensorName, "^" + Regex.Escape(Pattern).Replace(@"\*", ".*") + @"(\..*)?$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Which group each of <paramref name="specs"/> falls in (−1: none). A group that matches no tensor, or a
    /// tensor two groups match, is an error naming the patterns (and the tensor).
    /// </summary>
    public static int[] Assign(IReadOnlyList<ParameterGroup> groups, IReadOnlyList<TensorSpec> specs)
    {
        var assigned = new int[specs.Count];
        Array.Fill(assigned, -1);
        for (int g = 0; g < groups.Count; g++)
        {
            bool any = false;
            for (int i = 0; i < specs.Count; i++)
            {
                if (!groups[g].Matches(specs[i].Name)) continue;
                any = true;
                if (assigned[i] >= 0)
                    throw new ArgumentException($"--param-group patterns '{groups[assigned[i]].Pattern}' and '{groups[g].Pattern}' overlap: both match {specs[i].Name}");
                assigned[i] = g;
            }
            if (!any) throw new ArgumentException($"--param-group pattern '{groups[g].Pattern}' matches no parameter tensor (names are Hugging Face GPT-2's, e.g. wte.weight, h.0.attn.c_attn.weight, ln_f.bias)");
        }
        return assigned;
    }
}
