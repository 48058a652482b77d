using System.Globalization;
using System.Reflection;
using System.Text;

namespace RlhfCore.Training.Core;

/// <summary>
/// The one validation of numeric options: every <c>int</c>, <c>long</c>, <c>float</c> and <c>double</c>
/// property of an options record (nullable ones included) is checked against its <see cref="BoundsAttribute"/>,
/// and every floating-point one must be finite. Errors are <see cref="OptionException"/>s naming the CLI
/// flag (<c>GradAccum</c> → <c>--grad-accum</c>). A new field gets its range by carrying the attribute;
/// a test fails for any numeric field that has none.
/// </summary>
public static class OptionBounds
{
    /// <summary>Throws an <see cref="OptionException"/> for the first numeric property of <paramref name="record"/> out of its range.</summary>
    public static T Check<T>(T record) where T : notnull
    {
        foreach (var p in NumericProperties(record.GetType()))
        {
            var value = p.GetValue(record);
            if (value == null) continue;
            if (Problem(p, Convert.ToDouble(value, CultureInfo.InvariantCulture), Show(value)) is { } problem)
                throw new OptionException(FlagName(p.Name), problem);
        }
        return record;
    }

    /// <summary>
    /// What is wrong with <paramref name="value"/> for <paramref name="property"/> (shown as <paramref name="text"/>),
    /// or null when it is in range. The command-line parser calls this too, so a value too large for its type
    /// gets the same message as one too large for its bound.
    /// </summary>
    public static string? Problem(PropertyInfo property, double value, string text)
    {
        if (double.IsNaN(value)) return $"{text} is not a number";
        if (double.IsInfinity(value)) return $"{text} is not a finite number";
        if (BoundsOf(property) is not { } b) return null;
        string why = b.Why != null ? $" ({b.Why})" : "";
        double max = b.EffectiveMax;
        if (b.MinExclusive ? value <= b.Min : value < b.Min)
            return b.MinExclusive ? $"{text} must be above {Show(b.Min)}{why}" : $"{text} is below the minimum {Show(b.Min)}{why}";
        if (b.MaxExclusive ? value >= max : value > max)
            return b.MaxExclusive ? $"{text} must be below {Show(max)}{why}" : $"{text} is above the maximum {Show(max)}{why}";
        return null;
    }

    /// <summary>The range of <paramref name="property"/>: its own attribute, or that of the interface property it implements.</summary>
    public static BoundsAttribute? BoundsOf(PropertyInfo property)
    {
        if (property.GetCustomAttribute<BoundsAttribute>() is { } own) return own;
        var type = property.DeclaringType!;
        foreach (var i in type.GetInterfaces())
            if (i.GetProperty(property.Name)?.GetCustomAttribute<BoundsAttribute>() is { } inherited) return inherited;
        return null;
    }

    /// <summary>The public instance properties of <paramref name="type"/> holding a number (int, long, float, double, or nullable).</summary>
    public static IEnumerable<PropertyInfo> NumericProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && IsBoundedType(p.PropertyType));

    /// <summary>True for the numeric types that need a range (a <c>ulong</c> seed takes every value).</summary>
    public static bool IsBoundedType(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double);
    }

    /// <summary>True for float and double (and their nullables).</summary>
    public static bool IsFloatingType(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t == typeof(float) || t == typeof(double);
    }

    /// <summary><c>GradAccum</c> → <c>--grad-accum</c>.</summary>
    public static string FlagName(string property)
    {
        var sb = new StringBuilder("--");
        for (int i = 0; i < property.Length; i++)
        {
            if (char.IsUpper(property[i]) && i > 0) sb.Append('-');
            sb.Append(char.ToLowerInvariant(property[i]));
        }
        return sb.ToString();
    }

    /// <summary>A number as the user would type it (invariant culture, round-trip precision).</summary>
    public static string Show(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
