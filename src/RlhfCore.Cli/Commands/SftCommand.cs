using System.CommandLine;

namespace RlhfCore.Cli.Commands;

internal static class SftCommand
{
    public static Command Create() => new("sft", "pending");
}
