using System.CommandLine;
using RlhfCore.Cli.Commands;
using Spectre.Console;

namespace RlhfCore.Cli;

/// <summary>
/// The <c>rlhf</c> command tree and its entry point. Exit codes: 0 success, 1 an error in the input or
/// the run (a file, the data, a runtime check), 2 a bad command line (an unknown flag, a value that does
/// not parse or is outside its range), 3 the pipeline waits for human labels, 130 interrupted by Ctrl-C,
/// 143 stopped by SIGTERM. Errors are one line each on standard error.
/// </summary>
internal static class RlhfCli
{
    /// <summary>Every command, with <c>--dry-run</c> on all of them.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("rlhf — RlhfCore, an RLHF training engine with explicit kernels on CPU and CUDA");
        root.Add(OptionsCommand.DryRun);
        root.Add(SftCommand.Create());
        root.Add(PpoCommand.Create());
        root.Add(DpoCommand.Create());
        root.Add(IlqlCommand.Create());
        root.Add(BestOfNCommand.Create());
        root.Add(RewardCommand.Create());
        root.Add(GenerateCommand.Create());
        root.Add(EvalCommand.Create());
        root.Add(InfoCommand.Create());
        root.Add(BenchCommand.Create());
        root.Add(SelfTestCommand.Create());
        root.Add(LabelCommand.Create());
        root.Add(PipelineCommand.Create());
        root.Add(PipelineCommand.CreateDemo());
        root.Add(OveroptCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/> against <paramref name="root"/>. A bad command line prints one
    /// <c>error:</c> line per problem to standard error and returns 2, without the help text.
    /// </summary>
    public static int Run(RootCommand root, string[] args)
    {
        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            foreach (var e in result.Errors) ErrorOutput.Write(e.Message);
            Console.Error.WriteLine($"run '{string.Join(' ', ["rlhf", .. CommandPath(result), "--help"])}' for the flags");
            return ErrorOutput.Usage;
        }
        // Exceptions that escape Guard are bugs: they propagate to Start (and to tests) unchanged.
        return result.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    /// <summary>Sets up the console (no hard wrapping in logs) and runs <paramref name="args"/>.</summary>
    public static int Start(string[] args)
    {
        if (Console.IsOutputRedirected)
        {
            // A log gets plain text: no escape codes, and no width, so Spectre does not wrap lines at 80 columns.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(Console.Out),
            });
            AnsiConsole.Profile.Width = 4096;
        }
        try
        {
            return Run(Build(), args);
        }
        catch (Exception e)
        {
            // Only bugs get here (Guard turns users' errors into one line): keep the whole trace for the report.
            Console.Error.WriteLine($"error: internal error, please report it with this trace: {e}");
            return ErrorOutput.Failure;
        }
    }

    private static IEnumerable<string> CommandPath(ParseResult result)
    {
        var names = new Stack<string>();
        for (var c = result.CommandResult; c.Parent is System.CommandLine.Parsing.CommandResult parent; c = parent) names.Push(c.Command.Name);
        return names;
    }
}
