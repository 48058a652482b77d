using System.CommandLine;

namespace RlhfCore.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create() => new("generate", "pending");
}
