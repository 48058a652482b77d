using System.CommandLine;
using RlhfCore.Cli.Label;
using RlhfCore.Feedback.Annotation;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf label</c>: people judge pairs of completions. In a terminal, single key presses; with stdin
/// piped, one key per line (<c>a b t s u q</c>), so sessions can be scripted. See <see cref="LabelSession"/>
/// for the files it writes and how it resumes.
/// </summary>
internal static class LabelCommand
{
    public static Command Create()
    {
        var cmd = new Command("label", "Judge pairs of completions (A / B / tie / skip / undo / quit); writes judgments.jsonl and TRL pairs.jsonl, resumes where it stopped");
        var input = new Option<string>("--input") { Description = "Items to judge: JSONL of {\"prompt\",\"a\",\"b\"} or {\"prompt\",\"completions\":[a,b]}", Required = true };
        var outDir = new Option<string>("--out-dir") { Description = "Folder for judgments.jsonl and pairs.jsonl (run again on it to resume)", DefaultValueFactory = _ => "labels" };
        cmd.Add(input);
        cmd.Add(outDir);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            if (Console.IsInputRedirected)
            {
                LabelSession.Run(r.GetValue(input)!, r.GetValue(outDir)!, Console.In, Console.Out);
                return 0;
            }
            var items = ComparisonFile.Read(r.GetValue(input)!);
            using var keys = new ConsoleKeyLabelInput();
            new LabelSession(items, r.GetValue(outDir)!, keys, AnsiConsole.Console).Run();
            return 0;
        }));
        return cmd;
    }
}
