using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Cli.Options;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Training;
using Spectre.Console;
using RlhfCore.Training.Sft;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf eval</c>: mean next-token loss and perplexity of a model on data. Every flag is a field of <see cref="EvalOptions"/>.</summary>
internal static class EvalCommand
{
    public static Command Create() => OptionsCommand.Create<EvalOptions>(
        new Command("eval", "Loss and perplexity of a model on SFT-format data (one pass over the examples)"), o => o.Validate(), Run);

    private static int Run(EvalOptions e)
    {
        // A token shard is already ids: it needs no tokenizer, only a model whose vocabulary covers them.
        var tokenizer = SftData.IsTokenShard(e.Data!) ? null : TokenizerFactory.Create(e.Tokenizer, e.TokenizerDir);
        using var backend = BackendFactory.Create(e.Device, e.Threads);
        using var model = ModelFiles.Load(e.Model!, backend);
        if (tokenizer != null) VocabularyMatch.Require(tokenizer, model.Config.VocabSize, $"--model {e.Model}");
        var o = new SftOptions { Data = e.Data!, Batch = e.Batch, SeqLen = e.Seq, EvalFraction = 0, MaxLineBytes = e.MaxLineBytes }.Validate();
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
    }
}
