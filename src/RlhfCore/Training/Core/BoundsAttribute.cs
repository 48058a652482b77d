namespace RlhfCore.Training.Core;

/// <summary>
/// The range of a numeric option. Put it on a property of an options record (or on the interface property
/// the record implements, as <see cref="Optim.IOptimizerSettings"/> does) and <see cref="OptionBounds"/>
/// checks it, names the CLI flag in the error, and shows the range in <c>--help</c>. Every floating-point
/// option must also be finite, with or without this attribute.
/// </summary>
/// <param name="min">Smallest allowed value (inclusive unless <see cref="MinExclusive"/>).</param>
/// <param name="max">Largest allowed value (inclusive unless <see cref="MaxExclusive"/>).</param>
[AttributeUsage(AttributeTargets.Property)]
public sealed class BoundsAttribute(double min, double max) : Attribute
{
    /// <summary>Smallest allowed value.</summary>
    public double Min { get; } = min;

    /// <summary>Largest allowed value; see <see cref="MaxPerCore"/>.</summary>
    public double Max { get; } = max;

    /// <summary>The minimum itself is not allowed (for example a learning rate must be above 0).</summary>
    public bool MinExclusive { get; set; }

    /// <summary>The maximum itself is not allowed (for example a held-out fraction must be below 1).</summary>
    public bool MaxExclusive { get; set; }

    /// <summary>When positive, the maximum is this many times the machine's logical cores instead of <see cref="Max"/>.</summary>
    public double MaxPerCore { get; set; }

    /// <summary>Why the bound is where it is, added to the error message.</summary>
    public string? Why { get; set; }

    /// <summary>The maximum on this machine.</summary>
    public double EffectiveMax => MaxPerCore > 0 ? MaxPerCore * Environment.ProcessorCount : Max;

    /// <summary>The range in interval notation, e.g. <c>(0, 1]</c>.</summary>
    public string Interval => $"{(MinExclusive ? "(" : "[")}{OptionBounds.Show(Min)}, {OptionBounds.Show(EffectiveMax)}{(MaxExclusive ? ")" : "]")}";
}
