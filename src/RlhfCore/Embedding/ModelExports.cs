using System.Runtime.InteropServices;
using RlhfCore.IO;
using RlhfCore.Model;

namespace RlhfCore.Embedding;

/// <summary>rlhf_model_*: creating, loading, saving, cloning and destroying models.</summary>
internal static unsafe class ModelExports
{
    [UnmanagedCallersOnly]
    public static int CreatePreset(nint backend, byte* preset, uint heads, ulong seed, nint* model)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(model, "out");
            var config = GptConfig.Preset(NativeArgs.Text(preset, "preset"));
            result = Register(backend, b => Fresh(b, config, Heads(heads, "heads"), seed));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_create_preset"); }
    }

    [UnmanagedCallersOnly]
    public static int Create(nint backend, NativeModelConfig* config, uint heads, ulong seed, nint* model)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(model, "out");
            var c = NativeArgs.Ref(config, "config");
            var cfg = new GptConfig(c.VocabSize, c.MaxSeqLen, c.NumLayers, c.NumHeads, c.Channels).Validate();
            result = Register(backend, b => Fresh(b, cfg, Heads(heads, "heads"), seed));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_create"); }
    }

    [UnmanagedCallersOnly]
    public static int Load(nint backend, byte* path, uint extraHeads, ulong seed, nint* model)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(model, "out");
            string file = NativeArgs.Text(path, "path");
            var heads = Heads(extraHeads, "extra_heads");
            result = Register(backend, b => ModelFiles.Load(file, b.Backend, heads, seed));
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_load"); }
    }

    [UnmanagedCallersOnly]
    public static int Save(nint model, byte* path)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            string file = NativeArgs.Text(path, "path");
            lock (m.Owner.Gate)
            {
                var g = m.Model;
                if (!file.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
                    Gpt2Checkpoint.Save(file, g.Config, g.Heads, g.Parameters);
                else if (g.Heads != ModelHeads.None)
                    throw new ArgumentException($"{file}: an llm.c .bin holds the LM only, and this model has a {g.Heads} head; save it as .safetensors");
                else
                    LlmcCheckpoint.Save(file, g.Config, g.Parameters);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_save"); }
    }

    [UnmanagedCallersOnly]
    public static int Clone(nint model, nint* clone)
    {
        try
        {
            ref nint result = ref NativeArgs.Ref(clone, "out");
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            result = Register(m.Owner, b =>
            {
                var copy = new GptModel(b.Backend, m.Model.Config, m.Model.Heads);
                b.Backend.Copy(copy.Parameters.All, m.Model.Parameters.All);
                return copy;
            });
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_clone"); }
    }

    [UnmanagedCallersOnly]
    public static int Destroy(nint model)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            lock (m.Owner.Gate)
            {
                if (m.Optimizers > 0) throw new InvalidOperationException($"model 0x{model:x} still has {m.Optimizers} live optimizer(s): destroy them first");
                HandleTable.Remove<EmbeddedModel>(model, "model");
                m.Owner.Models--;
                m.Dispose();
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_destroy"); }
    }

    [UnmanagedCallersOnly]
    public static int GetConfig(nint model, NativeModelConfig* config, uint* heads)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            ref var c = ref NativeArgs.Ref(config, "config");
            var g = m.Model.Config;
            c = new NativeModelConfig { VocabSize = g.VocabSize, MaxSeqLen = g.MaxSeqLen, NumLayers = g.NumLayers, NumHeads = g.NumHeads, Channels = g.Channels };
            if (heads != null) *heads = (uint)m.Model.Heads;
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_get_config"); }
    }

    private static GptModel Fresh(EmbeddedBackend b, GptConfig config, ModelHeads heads, ulong seed)
    {
        var model = new GptModel(b.Backend, config, heads);
        try
        {
            model.InitializeWeights(seed);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static nint Register(nint backend, Func<EmbeddedBackend, GptModel> create) =>
        Register(HandleTable.Get<EmbeddedBackend>(backend, "backend"), create);

    /// <summary>Creates a model under the backend's lock, counts it there, and hands out its handle.</summary>
    private static nint Register(EmbeddedBackend b, Func<EmbeddedBackend, GptModel> create)
    {
        lock (b.Gate)
        {
            if (b.Disposed) throw new BadHandleException("backend was destroyed while this call started");
            var model = new EmbeddedModel(b, create(b));
            b.Models++;
            return HandleTable.Add(model);
        }
    }

    private static ModelHeads Heads(uint bits, string name) =>
        (bits & ~3u) == 0 ? (ModelHeads)bits
        : throw new ArgumentException($"{name} = {bits}: only RLHF_HEAD_VALUE (1) and RLHF_HEAD_REWARD (2) exist");
}
