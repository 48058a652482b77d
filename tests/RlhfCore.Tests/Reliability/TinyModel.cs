using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;

namespace RlhfCore.Tests.Reliability;

/// <summary>A randomly initialized byte-tiny model saved as safetensors, for commands that need a model file.</summary>
internal static class TinyModel
{
    /// <summary>Writes the model to <paramref name="path"/> and returns the path.</summary>
    public static string Save(string path, ModelHeads heads = ModelHeads.None)
    {
        using var backend = new CpuBackend(1);
        using var m = new GptModel(backend, GptConfig.Preset("byte-tiny"), heads);
        m.InitializeWeights(3);
        Gpt2Checkpoint.Save(path, m.Config, m.Heads, m.Parameters);
        return path;
    }
}
