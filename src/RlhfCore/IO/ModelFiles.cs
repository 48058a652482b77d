using RlhfCore.Backends;
using RlhfCore.Model;

namespace RlhfCore.IO;

/// <summary>Opens model files of any supported format into a <see cref="GptModel"/>.</summary>
public static class ModelFiles
{
    /// <summary>The architecture and heads stored in <paramref name="path"/> (safetensors or llm.c .bin).</summary>
    public static (GptConfig Config, ModelHeads Heads) ReadInfo(string path)
    {
        if (Directory.Exists(path))
        {
            string inside = Path.Combine(path, "model.safetensors");
            throw new FileNotFoundException($"{path} is a directory; a model is a file: a .safetensors (Hugging Face GPT-2 layout) or an llm.c .bin"
                + (File.Exists(inside) ? $", such as {inside}" : ""), path);
        }
        if (!File.Exists(path)) throw new FileNotFoundException($"model file not found: {path}", path);
        if (IsLlmc(path)) return (LlmcCheckpoint.ReadInfo(path).Config, ModelHeads.None);
        var info = Gpt2Checkpoint.ReadInfo(path);
        return (info.Config, info.Heads);
    }

    /// <summary>
    /// A model on <paramref name="backend"/> with the weights in <paramref name="path"/>. Heads in
    /// <paramref name="extraHeads"/> that the file lacks are initialized fresh from <paramref name="seed"/>.
    /// </summary>
    public static GptModel Load(string path, IBackend backend, ModelHeads extraHeads = ModelHeads.None, ulong seed = 1)
    {
        var (config, heads) = ReadInfo(path);
        var model = new GptModel(backend, config, heads | extraHeads);
        try
        {
            if ((heads | extraHeads) != heads) model.InitializeWeights(seed);
            if (IsLlmc(path)) LlmcCheckpoint.Load(path, model.Parameters, backend);
            else Gpt2Checkpoint.Load(path, model.Parameters, backend);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static bool IsLlmc(string path) => path.EndsWith(".bin", StringComparison.OrdinalIgnoreCase);
}
