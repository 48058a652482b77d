using System.CommandLine;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf info</c>: a checkpoint's architecture, heads, parameter count and tensors; for a reward-model ensemble folder, its members too.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var cmd = new Command("info", "Show a checkpoint's config, heads and parameter count");
        var path = new Argument<string>("model") { Description = "Model file (safetensors or llm.c .bin), or a reward-model ensemble folder" };
        var tensors = new Option<bool>("--tensors") { Description = "Also list every tensor" };
        cmd.Add(path);
        cmd.Add(tensors);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            string file = r.GetValue(path)!;
            if (EnsembleManifest.IsEnsemble(file)) file = DescribeEnsemble(file);
            var (config, heads) = ModelFiles.ReadInfo(file);
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

    /// <summary>Prints the ensemble's members and returns the first member's file (all share one architecture).</summary>
    private static string DescribeEnsemble(string path)
    {
        var manifest = EnsembleManifest.Read(path);
        var files = EnsembleManifest.MemberFiles(path);
        AnsiConsole.MarkupLineInterpolated($"[bold]reward-model ensemble[/] of {manifest.Members.Count} members (started from {manifest.Init}); each is a full model:");
        var table = new Table().AddColumns("member", "file", "seed", "bootstrap seed", "training records");
        for (int k = 0; k < manifest.Members.Count; k++)
        {
            var m = manifest.Members[k];
            table.AddRow($"{k}", Markup.Escape(files[k]), $"{m.Seed}", $"{m.BootstrapSeed}", $"{m.TrainRecords:N0}");
        }
        AnsiConsole.Write(table);
        return files[0];
    }
}
