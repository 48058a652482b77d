using System.Buffers.Binary;
using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.IO;

public class Gpt2CheckpointTests
{
    private CpuBackend _backend = null!;

    [SetUp] public void SetUp() => _backend = new CpuBackend(2); // 2: CpuBackend(1).Dispose() throws (WorkerPool releases a count of 0)
    [TearDown] public void TearDown() => _backend.Dispose();

    private float[] Values(TensorArena arena, string name)
    {
        var t = arena[name];
        var v = new float[t.Length];
        _backend.Download<float>(t, v);
        return v;
    }

    /// <summary>Float <paramref name="index"/> of tensor <paramref name="name"/>, decoded straight from the file's bytes.</summary>
    private static float RawFloat(byte[] file, string name, long index)
    {
        using var f = SafetensorsFile.Open(WriteTemp(file, out var dir));
        long dataStart = 8 + (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        long at = dataStart + f[name].Begin + index * 4;
        dir.Dispose();
        return BinaryPrimitives.ReadSingleLittleEndian(file.AsSpan((int)at, 4));
    }

    private static string WriteTemp(byte[] file, out TempDir dir)
    {
        dir = new TempDir();
        string p = dir.File("m.safetensors");
        File.WriteAllBytes(p, file);
        return p;
    }

    [Test]
    public void HfFixture_InfoIsInferredFromShapesAndConfigJson()
    {
        string path = TestData.Require("gpt2-tiny-random/model.safetensors");
        var info = Gpt2Checkpoint.ReadInfo(path);
        Assert.That(info.Config, Is.EqualTo(new GptConfig(50257, 1024, 1, 1, 2)));
        Assert.That(info.Heads, Is.EqualTo(ModelHeads.None));
        Assert.That(info.Metadata["format"], Is.EqualTo("pt"));
    }

    [Test]
    public void HfFixture_LoadsIntoArena_WithConv1DWeightsTransposed()
    {
        string path = TestData.Require("gpt2-tiny-random/model.safetensors");
        byte[] raw = File.ReadAllBytes(path);
        var config = Gpt2Checkpoint.ReadInfo(path).Config;
        using var arena = new TensorArena(_backend, GptParameters.Table(config));
        var result = Gpt2Checkpoint.Load(path, arena, _backend);
        Assert.That(result.NotInFile, Is.Empty);
        Assert.That(result.Ignored, Is.Empty);

        // c_attn: HF [in=2, out=6]; ours [out=6, in=2]: ours[o, i] == file[i, o].
        var cAttn = Values(arena, "h.0.attn.c_attn.weight");
        for (int i = 0; i < 2; i++)
            for (int o = 0; o < 6; o++)
                Assert.That(cAttn[o * 2 + i], Is.EqualTo(RawFloat(raw, "transformer.h.0.attn.c_attn.weight", i * 6 + o)), $"c_attn[{o},{i}]");
        // mlp.c_proj: HF [in=8, out=2]; ours [2, 8].
        var mlpProj = Values(arena, "h.0.mlp.c_proj.weight");
        Assert.That(mlpProj[1 * 8 + 5], Is.EqualTo(RawFloat(raw, "transformer.h.0.mlp.c_proj.weight", 5 * 2 + 1)));
        // Not transposed: embeddings and biases are copied as they are.
        var wte = Values(arena, "wte.weight");
        Assert.That(wte[50256 * 2 + 1], Is.EqualTo(RawFloat(raw, "transformer.wte.weight", 50256 * 2 + 1)));
        Assert.That(Values(arena, "wpe.weight")[1023 * 2], Is.EqualTo(RawFloat(raw, "transformer.wpe.weight", 1023 * 2)));
        Assert.That(Values(arena, "ln_f.bias")[1], Is.EqualTo(RawFloat(raw, "transformer.ln_f.bias", 1)));
        Assert.That(wte.Any(v => v != 0), Is.True);
    }

    [Test]
    public void HfFixture_SaveReproducesTheOriginalTensorsByteForByte()
    {
        string path = TestData.Require("gpt2-tiny-random/model.safetensors");
        var config = Gpt2Checkpoint.ReadInfo(path).Config;
        using var arena = new TensorArena(_backend, GptParameters.Table(config));
        Gpt2Checkpoint.Load(path, arena, _backend);
        using var dir = new TempDir();
        string saved = dir.File("model.safetensors");
        Gpt2Checkpoint.Save(saved, config, ModelHeads.None, arena);

        using var a = SafetensorsFile.Open(path);
        using var b = SafetensorsFile.Open(saved);
        Assert.That(b.Entries.Select(e => e.Name).Order(), Is.EqualTo(a.Entries.Select(e => e.Name).Order()));
        foreach (var e in a.Entries)
        {
            Assert.That(b[e.Name].Shape, Is.EqualTo(e.Shape), e.Name);
            Assert.That(b.ReadBytes(e.Name), Is.EqualTo(a.ReadBytes(e.Name)), e.Name);
        }
        Assert.That(b.Metadata["format"], Is.EqualTo("pt"));
        Assert.That(b.Contains("lm_head.weight"), Is.False);
    }

    [Test]
    public void ExportImport_RoundTripIsExact_WithHeads()
    {
        var config = new GptConfig(11, 7, 2, 2, 4);
        var heads = ModelHeads.Value | ModelHeads.Reward;
        using var src = new TensorArena(_backend, GptParameters.Table(config, heads));
        var rng = new Random(5);
        foreach (var t in src.Tensors)
            _backend.Upload<float>(t, Enumerable.Range(0, (int)t.Length).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray());
        using var dir = new TempDir();
        string path = dir.File("ckpt.safetensors");
        Gpt2Checkpoint.Save(path, config, heads, src, new Dictionary<string, string> { ["step"] = "12" });

        var info = Gpt2Checkpoint.ReadInfo(path); // no config.json here: the config comes from our metadata
        Assert.That(info.Config, Is.EqualTo(config));
        Assert.That(info.Heads, Is.EqualTo(heads));
        Assert.That(info.Metadata["step"], Is.EqualTo("12"));
        using (var f = SafetensorsFile.Open(path))
        {
            Assert.That(f["transformer.h.1.mlp.c_fc.weight"].Shape, Is.EqualTo(new long[] { 4, 16 }));
            Assert.That(f.Contains("v_head.summary.weight") && f.Contains("score.weight"), Is.True);
        }

        using var dst = new TensorArena(_backend, GptParameters.Table(info.Config, info.Heads));
        var result = Gpt2Checkpoint.Load(path, dst, _backend);
        Assert.That(result.NotInFile, Is.Empty);
        foreach (var spec in src.Specs)
            Assert.That(Values(dst, spec.Name), Is.EqualTo(Values(src, spec.Name)), spec.Name);
    }

    /// <summary>A fixture variant: the HF file's tensors renamed or extended by <paramref name="edit"/>, written with a config.json.</summary>
    private static string Variant(TempDir dir, Func<List<SafetensorsTensor>, List<SafetensorsTensor>> edit)
    {
        string fixture = TestData.Require("gpt2-tiny-random/model.safetensors");
        using var f = SafetensorsFile.Open(fixture);
        var tensors = f.Entries.Select(e => SafetensorsTensor.FromBytes(e.Name, e.DType, e.Shape, f.ReadBytes(e.Name))).ToList();
        string path = dir.File("model.safetensors");
        SafetensorsWriter.Write(path, edit(tensors));
        File.Copy(Path.Combine(Path.GetDirectoryName(fixture)!, "config.json"), dir.File("config.json"));
        return path;
    }

    private static SafetensorsTensor Renamed(SafetensorsTensor t, string name) => t with { Name = name };

    [Test]
    public void NamesWithoutPrefix_TiedLmHeadAndMaskBuffers_Load()
    {
        using var dir = new TempDir();
        string path = Variant(dir, ts =>
        {
            var wte = ts.Single(t => t.Name == "transformer.wte.weight");
            var list = ts.Select(t => Renamed(t, t.Name["transformer.".Length..])).ToList();
            list.Add(Renamed(wte, "lm_head.weight"));
            list.Add(SafetensorsTensor.FromFloat32("h.0.attn.bias", [1, 1, 2, 2], [1, 0, 1, 1]));
            list.Add(SafetensorsTensor.FromFloat32(GptParameters.ValueWeight, [1, 2], [0.5f, -0.5f]));
            list.Add(SafetensorsTensor.FromFloat32(GptParameters.ValueBias, [1], [0.25f]));
            return list;
        });
        var info = Gpt2Checkpoint.ReadInfo(path);
        Assert.That(info.Heads, Is.EqualTo(ModelHeads.Value));
        using var arena = new TensorArena(_backend, GptParameters.Table(info.Config, ModelHeads.Value | ModelHeads.Reward));
        var result = Gpt2Checkpoint.Load(path, arena, _backend);
        Assert.That(result.NotInFile, Is.EqualTo(new[] { GptParameters.RewardWeight }));
        Assert.That(result.Ignored, Is.EquivalentTo(new[] { "h.0.attn.bias", "lm_head.weight" }));
        Assert.That(Values(arena, GptParameters.ValueWeight), Is.EqualTo(new[] { 0.5f, -0.5f }));
        Assert.That(Values(arena, GptParameters.ValueBias), Is.EqualTo(new[] { 0.25f }));

        using var reference = new TensorArena(_backend, GptParameters.Table(info.Config));
        Gpt2Checkpoint.Load(TestData.Require("gpt2-tiny-random/model.safetensors"), reference, _backend);
        Assert.That(Values(arena, "h.0.attn.c_attn.weight"), Is.EqualTo(Values(reference, "h.0.attn.c_attn.weight")));
    }

    private static IEnumerable<TestCaseData> BadVariants()
    {
        TestCaseData C(string name, Func<List<SafetensorsTensor>, List<SafetensorsTensor>> edit, string message) =>
            new TestCaseData(edit, message).SetName("Load_Rejects_" + name);
        yield return C("MissingTensor", ts => ts.Where(t => t.Name != "transformer.ln_f.bias").ToList(),
            "missing tensor 'transformer.ln_f.bias' (expected shape [2])");
        yield return C("WrongShape", ts => ts.Select(t => t.Name == "transformer.h.0.attn.c_attn.weight"
                ? SafetensorsTensor.FromFloat32(t.Name, [6, 2], new float[12]) : t).ToList(),
            "tensor 'transformer.h.0.attn.c_attn.weight' has shape [6, 2], expected [2, 6] (Conv1D [in, out])");
        yield return C("UnknownTensor", ts => [.. ts, SafetensorsTensor.FromFloat32("transformer.h.0.mystery", [1], [0f])],
            "tensor 'transformer.h.0.mystery' is not a GPT-2 parameter name");
        yield return C("ExtraLayer", ts => [.. ts, SafetensorsTensor.FromFloat32("transformer.h.1.ln_1.bias", [2], [0f, 0f])],
            "tensor 'transformer.h.1.ln_1.bias' has no place in the parameter table");
        yield return C("UntiedLmHead", ts => [.. ts, SafetensorsTensor.FromFloat32("lm_head.weight", [50257, 2], new float[50257 * 2])],
            "tensor 'lm_head.weight' differs from 'transformer.wte.weight'");
        yield return C("BothPrefixes", ts => [.. ts, SafetensorsTensor.FromFloat32("ln_f.bias", [2], [0f, 0f])],
            "tensor 'ln_f.bias' appears both with and without the 'transformer.' prefix");
    }

    [TestCaseSource(nameof(BadVariants))]
    public void Load_RejectsMismatchWithClearMessage(Func<List<SafetensorsTensor>, List<SafetensorsTensor>> edit, string message)
    {
        using var dir = new TempDir();
        string path = Variant(dir, edit);
        using var arena = new TensorArena(_backend, GptParameters.Table(new GptConfig(50257, 1024, 1, 1, 2)));
        var ex = Assert.Throws<CheckpointException>(() => Gpt2Checkpoint.Load(path, arena, _backend));
        Assert.That(ex!.Message, Does.Contain(message).And.Contain(path));
    }

    [Test]
    public void ReadInfo_WithoutHeadCount_SaysWhatToProvide()
    {
        using var dir = new TempDir();
        string path = Variant(dir, ts => ts);
        File.Delete(dir.File("config.json"));
        var ex = Assert.Throws<CheckpointException>(() => Gpt2Checkpoint.ReadInfo(path));
        Assert.That(ex!.Message, Does.Contain("number of attention heads").And.Contain("config.json (with n_head)"));
    }

    [Test]
    public void ReadInfo_ConfigJsonDisagreeingWithTensors_IsRejected()
    {
        using var dir = new TempDir();
        string path = Variant(dir, ts => ts);
        File.WriteAllText(dir.File("config.json"), "{\"n_head\": 1, \"n_embd\": 768}");
        var ex = Assert.Throws<CheckpointException>(() => Gpt2Checkpoint.ReadInfo(path));
        Assert.That(ex!.Message, Does.Contain("field 'n_embd' is 768 but the checkpoint's tensors say 2"));
    }

    [Test]
    public void TensorFile_RoundTripsNamedArenasAndChecksShapes()
    {
        var table = GptParameters.Table(new GptConfig(5, 3, 1, 1, 2));
        using var m = new TensorArena(_backend, table);
        using var v = new TensorArena(_backend, table);
        foreach (var (t, k) in m.Tensors.Select((t, i) => (t, i)))
            _backend.Upload<float>(t, Enumerable.Range(0, (int)t.Length).Select(j => k + j * 0.125f).ToArray());
        using var step = _backend.Allocate(64);
        var stepTensor = step.AsTensor(DType.I32, 1);
        _backend.Upload<int>(stepTensor, [77]);
        using var dir = new TempDir();
        string path = dir.File("state.safetensors");
        TensorFile.SaveTensors(path, _backend, TensorFile.Named("adam.m.", m).Append(("step", stepTensor)), new Dictionary<string, string> { ["kind"] = "adamw" });

        _backend.Upload<int>(stepTensor, [0]);
        var meta = TensorFile.LoadTensors(path, _backend, TensorFile.Named("adam.m.", v).Append(("step", stepTensor)));
        Assert.That(meta["kind"], Is.EqualTo("adamw"));
        foreach (var spec in table) Assert.That(Values(v, spec.Name), Is.EqualTo(Values(m, spec.Name)), spec.Name);
        var s = new int[1];
        _backend.Download<int>(stepTensor, s);
        Assert.That(s[0], Is.EqualTo(77));

        using var other = new TensorArena(_backend, GptParameters.Table(new GptConfig(6, 3, 1, 1, 2)));
        var ex = Assert.Throws<CheckpointException>(() => TensorFile.LoadTensors(path, _backend, TensorFile.Named("adam.m.", other)));
        Assert.That(ex!.Message, Does.Contain("tensor 'adam.m.wte.weight' has shape [5, 2], expected [6, 2]"));
        ex = Assert.Throws<CheckpointException>(() => TensorFile.LoadTensors(path, _backend, TensorFile.Named("adam.v.", v)));
        Assert.That(ex!.Message, Does.Contain("missing tensor 'adam.v.wte.weight'"));
    }
}
