using System.CommandLine;

namespace RlhfCore.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create() => new("info", "pending");
}
