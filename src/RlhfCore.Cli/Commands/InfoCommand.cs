using System.CommandLine;
using RlhfCore.IO;
using RlhfCore.Model;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf info</c>: a checkpoint's architecture, heads, parameter count and tensors.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Show a checkpoint's config, heads and parameter count");
        var path = new Argument<string>("model") { Description = "Model file (safetensors or llm.c .bin)" };
        var tensors = new Option<bool>("--tensors") { Description = "Also list every tensor" };
        cmd.Add(path);
        cmd.Add(tensors);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            var (config, heads) = ModelFiles.ReadInfo(r.GetValue(path)!);
            var table = GptParameters.Table(config, heads);
            var grid = new Table().AddColumns("field", "value");
            grid.AddRow("vocab size", $"{config.VocabSize}");
            grid.AddRow("context", $"{config.MaxSeqLen}");
            grid.AddRow("layers", $"{config.NumLayers}");
            grid.AddRow("heads", $"{config.NumHeads}");
            grid.AddRow("width", $"{config.Channels}");
            grid.AddRow("extra heads", Markup.Escape(heads.ToString()));
            grid.AddRow("parameters", $"{GptParameters.Count(table):N0}");
            AnsiConsole.Write(grid);
            if (r.GetValue(tensors))
            {
                var list = new Table().AddColumns("tensor", "shape", "elements");
                // Names and shapes are data: "[260, 64]" unescaped is read as a markup tag.
                foreach (var s in table) list.AddRow(Markup.Escape(s.Name), Markup.Escape($"[{string.Join(", ", s.Shape)}]"), $"{s.Length:N0}");
                AnsiConsole.Write(list);
            }
            return 0;
        }));
        return cmd;
    }
}
