using System.CommandLine.Parsing;
using System.Globalization;
using System.Reflection;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli;

/// <summary>
/// Parses a numeric flag's text for <see cref="RecordBinder{TRecord}"/>, so that a value too large for its
/// type (<c>--batch 99999999999</c>) gets the same one-line message as one above its bound, and
/// <c>1e308</c> for a float is reported as not finite instead of becoming infinity later.
/// </summary>
internal static class NumberParser
{
    /// <summary>The value of <paramref name="result"/>'s token as <typeparamref name="T"/>, or an error on the result.</summary>
    public static T? Parse<T>(ArgumentResult result, PropertyInfo property, string flag)
    {
        if (result.Tokens.Count != 1)
        {
            result.AddError($"{flag}: needs one value");
            return default;
        }
        string text = result.Tokens[0].Value;
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        bool integer = !OptionBounds.IsFloatingType(type);
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double x))
        {
            result.AddError($"{flag}: '{text}' is not a {(integer ? "whole number" : "number")}");
            return default;
        }
        if (integer && (!double.IsFinite(x) || x != Math.Floor(x)))
        {
            result.AddError($"{flag}: '{text}' is not a whole number");
            return default;
        }
        // A float narrows first: 1e39 is finite as a double but infinite as a float.
        double value = type == typeof(float) ? (float)x : x;
        if (OptionBounds.Problem(property, value, text) is { } problem)
        {
            result.AddError($"{flag}: {problem}");
            return default;
        }
        if (type == typeof(int) && value is < int.MinValue or > int.MaxValue || type == typeof(long) && value is < long.MinValue or >= 9.2233720368547758e18)
        {
            result.AddError($"{flag}: {text} does not fit a {(type == typeof(int) ? "32" : "64")}-bit integer");
            return default;
        }
        // Each arm boxed on its own: a conditional expression would widen all of them to double.
        object boxed;
        if (type == typeof(int)) boxed = (int)value;
        else if (type == typeof(long)) boxed = (long)value;
        else if (type == typeof(float)) boxed = (float)value;
        else boxed = value;
        return (T)boxed;
    }
}
