using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Cli.Options;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary>
/// <c>rlhf generate</c>: batched sampling from a model with the KV cache; with <c>--ilql-heads</c>, ILQL's advantage-shifted
/// decoding (<see cref="IlqlLogitsShaper"/>). Every flag is a field of <see cref="GenerateOptions"/>.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create() => OptionsCommand.Create<GenerateOptions>(
        new Command("generate", "Sample continuations of prompts (temperature, top-k, top-p, greedy, EOS)"), o => o.Validate(), Run);

    private static int Run(GenerateOptions o)
    {
        var tokenizer = TokenizerFactory.Create(o.Tokenizer, o.TokenizerDir);
        using var backend = BackendFactory.Create(o.Device, o.Threads);
        using var model = ModelFiles.Load(o.Model!, backend);
        VocabularyMatch.Require(tokenizer, model.Config.VocabSize, $"--model {o.Model}");
        var texts = o.Prompt.SelectMany(p => Enumerable.Repeat(p, o.NumSamples)).ToArray();
        var encoded = texts.Select(t => t.Length == 0 ? [tokenizer.EndOfText] : tokenizer.Encode(t)).ToArray();
        var options = new SamplingOptions(o.MaxNewTokens, o.Temperature, o.TopK, o.TopP, o.IgnoreEos ? null : tokenizer.EndOfText);
        using var gen = new GptGenerator(model, encoded.Length, encoded.Max(e => e.Length));
        using var heads = o.IlqlHeads != null ? IlqlHeadsFile.Load(o.IlqlHeads, backend, encoded.Length) : null;
        if (heads != null && (heads.C != model.Config.Channels || heads.V != model.Config.VocabSize))
            throw new ArgumentException($"--ilql-heads {o.IlqlHeads}: heads of width {heads.C} and vocabulary {heads.V} do not fit the model's {model.Config.Channels} and {model.Config.VocabSize}");
        var outputs = gen.Generate(encoded, options, new Rng(o.Seed), shaper: heads != null ? new IlqlLogitsShaper(backend, heads, o.IlqlBeta) : null);
        for (int i = 0; i < texts.Length; i++)
        {
            var ids = outputs[i].Tokens.Where(t => t != tokenizer.EndOfText).ToArray();
            // Prompt and completion are data: escaped, so brackets in them print as typed.
            string end = outputs[i].StoppedAtEos ? "" : " [grey](no EOS)[/]";
            AnsiConsole.MarkupLine($"[grey]{Markup.Escape(texts[i])}[/]{Markup.Escape(tokenizer.Decode(ids))}{end}");
        }
        return 0;
    }
}
