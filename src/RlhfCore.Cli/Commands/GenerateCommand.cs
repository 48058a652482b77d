using System.CommandLine;
using RlhfCore.Backends;
using RlhfCore.Data;
using RlhfCore.IO;
using RlhfCore.Model;
using Spectre.Console;

namespace RlhfCore.Cli.Commands;

/// <summary><c>rlhf generate</c>: batched sampling from a model with the KV cache.</summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var cmd = new Command("generate", "Sample continuations of prompts (temperature, top-k, top-p, greedy, EOS)");
        var m = new ModelOptions();
        m.AddTo(cmd);
        var prompt = new Option<string[]>("--prompt") { Description = "A prompt (repeat for a batch); empty starts from the EOS token", DefaultValueFactory = _ => [""] };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Tokens to generate per prompt", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Softmax temperature (0 = greedy)", DefaultValueFactory = _ => 1f };
        var topK = new Option<int>("--top-k") { Description = "Keep the k most likely tokens (0 = off)", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus mass (1 = off)", DefaultValueFactory = _ => 1f };
        var samples = new Option<int>("--num-samples") { Description = "Samples per prompt", DefaultValueFactory = _ => 1 };
        var noEos = new Option<bool>("--ignore-eos") { Description = "Do not stop at the end-of-text token" };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 1 };
        foreach (var o in new Option[] { prompt, maxNew, temperature, topK, topP, samples, noEos, seed }) cmd.Add(o);
        cmd.SetAction(r => CommonOptions.Guard(() =>
        {
            var tokenizer = m.CreateTokenizer(r);
            using var backend = BackendFactory.Create(r.GetValue(m.Device)!, r.GetValue(m.Threads));
            using var model = ModelFiles.Load(r.GetValue(m.Model)!, backend);
            VocabularyMatch.Require(tokenizer, model.Config.VocabSize, $"--model {r.GetValue(m.Model)}");
            var texts = r.GetValue(prompt)!.SelectMany(p => Enumerable.Repeat(p, Math.Max(1, r.GetValue(samples)))).ToArray();
            var encoded = texts.Select(t => t.Length == 0 ? [tokenizer.EndOfText] : tokenizer.Encode(t)).ToArray();
            var options = new SamplingOptions(r.GetValue(maxNew), r.GetValue(temperature), r.GetValue(topK), r.GetValue(topP),
                r.GetValue(noEos) ? null : tokenizer.EndOfText);
            using var gen = new GptGenerator(model, encoded.Length, encoded.Max(e => e.Length));
            var outputs = gen.Generate(encoded, options, new Rng(r.GetValue(seed)));
            for (int i = 0; i < texts.Length; i++)
            {
                var ids = outputs[i].Tokens.Where(t => t != tokenizer.EndOfText).ToArray();
                AnsiConsole.MarkupLineInterpolated($"[grey]{texts[i]}[/]{tokenizer.Decode(ids)}{(outputs[i].StoppedAtEos ? "" : " [grey](no EOS)[/]")}");
            }
            return 0;
        }));
        return cmd;
    }
}
