using System.CommandLine;
using RlhfCore.Data;

namespace RlhfCore.Cli.Commands;

/// <summary>Flags for commands that open a trained model and its tokenizer.</summary>
internal sealed class ModelOptions
{
    public Option<string> Model { get; } = new("--model") { Description = "Model file (safetensors or llm.c .bin)", Required = true };
    public Option<string> Tokenizer { get; } = new("--tokenizer") { Description = "Tokenizer: byte or gpt2", DefaultValueFactory = _ => "byte" };
    public Option<string?> TokenizerDir { get; } = new("--tokenizer-dir") { Description = "Folder with vocab.json and merges.txt (gpt2 tokenizer)" };
    public Option<string> Device { get; } = CommonOptions.Device();
    public Option<int> Threads { get; } = CommonOptions.Threads();

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { Model, Tokenizer, TokenizerDir, Device, Threads }) c.Add(o);
    }

    public ITokenizer CreateTokenizer(ParseResult r) => TokenizerFactory.Create(r.GetValue(Tokenizer)!, r.GetValue(TokenizerDir));
}
