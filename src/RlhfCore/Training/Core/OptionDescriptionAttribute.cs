using System.ComponentModel;
using System.Reflection;

namespace RlhfCore.Training.Core;

/// <summary>
/// A stage's own help text for a flag its options record inherits, put on the record (for example PPO's
/// <c>--steps</c> counts rollout steps). <see cref="Of"/> prefers it over the property's [Description].
/// </summary>
/// <param name="property">The inherited property's name.</param>
/// <param name="description">The help text for this stage.</param>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = true)]
public sealed class OptionDescriptionAttribute(string property, string description) : Attribute
{
    /// <summary>The inherited property's name.</summary>
    public string Property { get; } = property;

    /// <summary>The help text for this stage.</summary>
    public string Description { get; } = description;

    /// <summary>
    /// The help text of <paramref name="property"/> on <paramref name="record"/>: the record's own
    /// <see cref="OptionDescriptionAttribute"/> for it (the most derived wins), else the property's [Description], else that of the interface property it implements, else empty.
    /// </summary>
    public static string Of(Type record, PropertyInfo property)
    {
        for (var t = record; t != null; t = t.BaseType)
            foreach (var a in t.GetCustomAttributes<OptionDescriptionAttribute>(inherit: false))
                if (a.Property == property.Name) return a.Description;
        if (property.GetCustomAttribute<DescriptionAttribute>() is { } own) return own.Description;
        // A setting declared once on an interface the record implements (IOptimizerSettings-style) keeps its text there.
        foreach (var i in property.DeclaringType!.GetInterfaces())
            if (i.GetProperty(property.Name)?.GetCustomAttribute<DescriptionAttribute>() is { } inherited) return inherited.Description;
        return "";
    }
}
