using System.CommandLine;
using System.Reflection;
using RlhfCore.Training.Core;

namespace RlhfCore.Cli;

/// <summary>
/// Maps an options record onto command-line flags one to one: each public init property becomes
/// <c>--kebab-case-name</c> (inherited ones included) with the record's default and its help text
/// (<see cref="OptionDescriptionAttribute.Of"/>: the record's own text for an inherited flag, else the property's [Description]), followed in
/// <c>--help</c> by its <see cref="BoundsAttribute"/> range. Numeric flags are parsed by
/// <see cref="NumberParser"/> against that range. Binding reads every flag back into a new record, so the
/// record stays the single source of truth.
/// </summary>
internal sealed class RecordBinder<TRecord> where TRecord : new()
{
    private readonly List<(PropertyInfo Property, Option Option)> _options = [];

    /// <summary>Adds one flag per property of <typeparamref name="TRecord"/> to <paramref name="command"/>.</summary>
    public RecordBinder(Command command)
    {
        var defaults = new TRecord();
        foreach (var p in typeof(TRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.SetMethod == null || p.GetIndexParameters().Length > 0) continue;
            var option = (Option)typeof(RecordBinder<TRecord>).GetMethod(nameof(MakeOption), BindingFlags.NonPublic | BindingFlags.Static)!
                .MakeGenericMethod(p.PropertyType)
                .Invoke(null, [p, p.GetValue(defaults)])!;
            command.Add(option);
            _options.Add((p, option));
        }
    }

    private static Option<T> MakeOption<T>(PropertyInfo property, T defaultValue)
    {
        string flag = OptionBounds.FlagName(property.Name);
        string description = OptionDescriptionAttribute.Of(typeof(TRecord), property);
        if (OptionBounds.BoundsOf(property) is { } bounds) description += $" Range: {bounds.Interval}.";
        var option = new Option<T>(flag) { Description = description, DefaultValueFactory = _ => defaultValue };
        if (OptionBounds.IsBoundedType(typeof(T))) option.CustomParser = r => NumberParser.Parse<T>(r, property, flag);
        return option;
    }

    /// <summary>The record with every flag's value.</summary>
    public TRecord Bind(ParseResult result)
    {
        var record = new TRecord();
        foreach (var (p, o) in _options)
            p.SetValue(record, typeof(ParseResult).GetMethods()
                .First(m => m.Name == nameof(ParseResult.GetValue) && m.IsGenericMethod && m.GetParameters()[0].ParameterType.IsGenericType
                    && m.GetParameters()[0].ParameterType.GetGenericTypeDefinition() == typeof(Option<>))
                .MakeGenericMethod(p.PropertyType).Invoke(result, [o]));
        return record;
    }
}
