namespace RlhfCore.Data;

/// <summary>Creates a tokenizer by name.</summary>
public static class TokenizerFactory
{
    /// <summary>
    /// <c>byte</c> (256 bytes + 4 specials), or <c>gpt2</c> loaded from <paramref name="directory"/>'s
    /// vocab.json and merges.txt.
    /// </summary>
    public static ITokenizer Create(string name, string? directory) => name switch
    {
        "byte" => ByteTokenizer.Instance,
        "gpt2" => directory is null
            ? throw new ArgumentException("the gpt2 tokenizer needs --tokenizer-dir, a folder holding vocab.json and merges.txt")
            : Gpt2BpeTokenizer.Load(Path.Combine(directory, "vocab.json"), Path.Combine(directory, "merges.txt")),
        _ => throw new ArgumentException($"unknown tokenizer '{name}' (byte, gpt2)"),
    };
}
