using System.CommandLine;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Training.Reward.Ensemble;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf info</c>: a checkpoint's architecture, heads, parameter count and tensors; for a reward-model ensemble folder, its members too; for an ILQL policy, its heads file (or that file itself).</summary>
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
            if (Path.GetFileName(file) == IlqlHeadsFile.FileName) return DescribeIlqlHeads(file);
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
            // An ILQL policy: the heads live in a second file beside the model, which decoding with --ilql-heads reads.
            string heads2 = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(file))!, IlqlHeadsFile.FileName);
            if (File.Exists(heads2))
            {
                var (C, V, q) = IlqlHeadsFile.Describe(heads2);
                grid.AddRow("ILQL heads", Markup.Escape($"{IlqlHeadsFile.FileName} beside it: {q} Q head(s) [{V}, {C}] + targets, V head [1, {C}]"));
            }
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

    /// <summary>Describes an ILQL heads file: its Q heads, their targets and the V head, and the decoding it is for.</summary>
    private static int DescribeIlqlHeads(string file)
    {
        var (C, V, q) = IlqlHeadsFile.Describe(file);
        var grid = new Table().AddColumns("field", "value");
        grid.AddRow("kind", "ILQL heads (rlhf ilql); decode with rlhf generate --ilql-heads FILE --ilql-beta β");
        grid.AddRow("Q heads", $"{q} (each with a Polyak target copy; decoding uses the min of the targets)");
        grid.AddRow("vocab size", $"{V}");
        grid.AddRow("width", $"{C}");
        long count = 2L * q * ((long)V * C + V) + C + 1;
        grid.AddRow("parameters", $"{count:N0}");
        AnsiConsole.Write(grid);
        return 0;
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
