using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Training;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf eval</c>: mean next-token loss and perplexity of a model on data.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var cmd = new Command("eval", "Loss and perplexity of a model on SFT-format data (one pass over the examples)");
        var m = new ModelOptions();
        m.AddTo(cmd);
        var data = new Option<string>("--data") { Description = "JSONL, text file, or builtin:arithmetic", Required = true };
        var batch = new Option<int>("--batch") { Description = "Rows per batch", DefaultValueFactory = _ => 8 };
        var seq = new Option<int>("--seq") { Description = "Tokens per row", DefaultValueFactory = _ => 64 };
        foreach (var o in new Option[] { data, batch, seq }) cmd.Add(o);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            // A token shard is already ids: it needs no tokenizer, only a model whose vocabulary covers them.
            var tokenizer = SftData.IsTokenShard(r.GetValue(data)!) ? null : m.CreateTokenizer(r);
            using var backend = BackendFactory.Create(r.GetValue(m.Device)!, r.GetValue(m.Threads));
            using var model = ModelFiles.Load(r.GetValue(m.Model)!, backend);
            if (tokenizer != null) VocabularyMatch.Require(tokenizer, model.Config.VocabSize, $"--model {r.GetValue(m.Model)}");
            var o = new SftOptions { Data = r.GetValue(data)!, Batch = r.GetValue(batch), SeqLen = r.GetValue(seq), EvalFraction = 0 }.Validate();
            var sft = SftData.Build(o, tokenizer, model.Config.MaxSeqLen, model.Config.VocabSize);
            var step = new LmStep(model, o.Batch, o.SeqLen);
            using var acts = step.Activations;
            var b = new SftBatch(o.Batch, o.SeqLen);
            int batches = Math.Max(1, sft.TrainExamples / o.Batch);
            double weighted = 0;
            long tokens = 0;
            for (int i = 0; i < batches; i++)
            {
                sft.Train.Next(b);
                double loss = step.Run(b, backward: false);
                if (b.LossTokenCount == 0) continue;
                weighted += loss * b.LossTokenCount;
                tokens += b.LossTokenCount;
            }
            if (tokens == 0) throw new ArgumentException($"{o.Data}: no tokens to score");
            double mean = weighted / tokens;
            var table = new Table().AddColumns("loss (nats/token)", "perplexity", "tokens scored", "batches");
            table.AddRow($"{mean:F4}", $"{Math.Exp(mean):F3}", $"{tokens:N0}", $"{batches}");
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }
}
