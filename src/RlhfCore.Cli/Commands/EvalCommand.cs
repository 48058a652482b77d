using System.CommandLine;

namespace RlhfCore.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create() => new("eval", "pending");
}
