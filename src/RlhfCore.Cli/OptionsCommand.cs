using System.CommandLine;
using System.Text.Json;
using RlhfCore.Cli.Commands;

namespace RlhfCore.Cli;

/// <summary>
/// A command whose flags are one options record: binds them (<see cref="RecordBinder{TRecord}"/>), runs the
/// record's validation, then either prints the resolved record (<c>--dry-run</c>) or runs the command.
/// Every command with numeric flags is built this way, so all of them are checked by the one validator.
/// </summary>
internal static class OptionsCommand
{
    /// <summary>
    /// <c>--dry-run</c>, on every command: check the flags and print the resolved options as JSON (what
    /// <c>config.json</c> would hold), without reading data or training.
    /// </summary>
    public static Option<bool> DryRun { get; } = new("--dry-run")
    {
        Description = "Check the flags and print the resolved options as JSON, without running",
        Recursive = true,
    };

    /// <summary>Adds <typeparamref name="TOptions"/>'s flags to <paramref name="command"/> and sets its action.</summary>
    public static Command Create<TOptions>(Command command, Func<TOptions, TOptions> validate, Func<TOptions, int> run)
        where TOptions : new()
    {
        var binder = new RecordBinder<TOptions>(command);
        command.SetAction(r => CommonOptions.Guard(() =>
        {
            var options = validate(binder.Bind(r));
            if (!r.GetValue(DryRun)) return run(options);
            Console.Out.WriteLine(JsonSerializer.Serialize(options, RunFiles.Json));
            return 0;
        }));
        return command;
    }
}
