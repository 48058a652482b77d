using System.Buffers.Binary;
using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.IO;

public class LlmcFormatTests
{
    // A tiny model: V 5 padded to 8, maxT 3, 2 layers, 1 head, C 2.
    private const int V = 5, Vp = 8, T = 3, L = 2, NH = 1, C = 2;
    private static readonly GptConfig Config = new(V, T, L, NH, C);

    private CpuBackend _backend = null!;

    [SetUp] public void SetUp() => _backend = new CpuBackend(2);
    [TearDown] public void TearDown() => _backend.Dispose();

    private static byte[] Header(params int[] fields)
    {
        var b = new byte[1024];
        for (int i = 0; i < fields.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * i), fields[i]);
        return b;
    }

    /// <summary>
    /// A checkpoint written the way llm.c's train_gpt2.c lays it out, independently of the reader: float i of
    /// the parameter stream holds the value i, except the vocabulary padding rows, which hold -1.
    /// </summary>
    private static byte[] LlmcFile(out int floats)
    {
        floats = Vp * C + T * C + L * (12 * C * C + 13 * C) + 2 * C;
        var bytes = new byte[1024 + 4 * floats];
        Header(20240326, 3, T, V, L, NH, C, Vp).CopyTo(bytes, 0);
        for (int i = 0; i < floats; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(1024 + 4 * i), i >= V * C && i < Vp * C ? -1f : i);
        return bytes;
    }

    private float[] Values(TensorArena arena, string name)
    {
        var v = new float[arena[name].Length];
        _backend.Download<float>(arena[name], v);
        return v;
    }

    private static float[] Range(int start, int count) => Enumerable.Range(start, count).Select(i => (float)i).ToArray();

    [Test]
    public void Checkpoint_ValuesLandInTheRightTensors_VocabUnpadded()
    {
        using var dir = new TempDir();
        string path = dir.File("gpt2.bin");
        File.WriteAllBytes(path, LlmcFile(out _));
        var info = LlmcCheckpoint.ReadInfo(path);
        Assert.That(info, Is.EqualTo(new LlmcCheckpointInfo(Config, Vp)));

        using var arena = new TensorArena(_backend, GptParameters.Table(Config));
        LlmcCheckpoint.Load(path, arena, _backend);
        Assert.That(Values(arena, "wte.weight"), Is.EqualTo(Range(0, V * C)));
        int at = Vp * C; // wpe follows the padded wte
        Assert.That(Values(arena, "wpe.weight"), Is.EqualTo(Range(at, T * C)));
        at += T * C;
        int ln1w = at, ln1b = ln1w + L * C, qkvw = ln1b + L * C, qkvb = qkvw + L * 3 * C * C, attprojw = qkvb + L * 3 * C;
        int attprojb = attprojw + L * C * C, ln2w = attprojb + L * C, ln2b = ln2w + L * C, fcw = ln2b + L * C, fcb = fcw + L * 4 * C * C;
        int fcprojw = fcb + L * 4 * C, fcprojb = fcprojw + L * 4 * C * C, lnfw = fcprojb + L * C, lnfb = lnfw + C;
        Assert.That(Values(arena, "h.0.ln_1.weight"), Is.EqualTo(Range(ln1w, C)));
        Assert.That(Values(arena, "h.1.ln_1.bias"), Is.EqualTo(Range(ln1b + C, C)));
        Assert.That(Values(arena, "h.1.attn.c_attn.weight"), Is.EqualTo(Range(qkvw + 3 * C * C, 3 * C * C)));
        Assert.That(Values(arena, "h.0.attn.c_attn.bias"), Is.EqualTo(Range(qkvb, 3 * C)));
        Assert.That(Values(arena, "h.1.attn.c_proj.weight"), Is.EqualTo(Range(attprojw + C * C, C * C)));
        Assert.That(Values(arena, "h.0.attn.c_proj.bias"), Is.EqualTo(Range(attprojb, C)));
        Assert.That(Values(arena, "h.1.ln_2.weight"), Is.EqualTo(Range(ln2w + C, C)));
        Assert.That(Values(arena, "h.0.ln_2.bias"), Is.EqualTo(Range(ln2b, C)));
        Assert.That(Values(arena, "h.1.mlp.c_fc.weight"), Is.EqualTo(Range(fcw + 4 * C * C, 4 * C * C)));
        Assert.That(Values(arena, "h.1.mlp.c_fc.bias"), Is.EqualTo(Range(fcb + 4 * C, 4 * C)));
        Assert.That(Values(arena, "h.0.mlp.c_proj.weight"), Is.EqualTo(Range(fcprojw, 4 * C * C)));
        Assert.That(Values(arena, "h.1.mlp.c_proj.bias"), Is.EqualTo(Range(fcprojb + C, C)));
        Assert.That(Values(arena, "ln_f.weight"), Is.EqualTo(Range(lnfw, C)));
        Assert.That(Values(arena, "ln_f.bias"), Is.EqualTo(Range(lnfb, C)));
    }

    [Test]
    public void Checkpoint_SaveWritesLlmcLayout_WithZeroPadding()
    {
        using var dir = new TempDir();
        string path = dir.File("gpt2.bin");
        byte[] original = LlmcFile(out _);
        File.WriteAllBytes(path, original);
        using var arena = new TensorArena(_backend, GptParameters.Table(Config));
        LlmcCheckpoint.Load(path, arena, _backend);
        string saved = dir.File("saved.bin");
        LlmcCheckpoint.Save(saved, Config, arena, Vp);

        byte[] expected = (byte[])original.Clone();
        Array.Clear(expected, 1024 + 4 * V * C, 4 * (Vp - V) * C);
        Assert.That(File.ReadAllBytes(saved), Is.EqualTo(expected));
        Assert.That(LlmcCheckpoint.ReadInfo(dir.File("saved.bin")).PaddedVocab, Is.EqualTo(Vp));
        LlmcCheckpoint.Save(saved, Config, arena); // default padding: V rounded up to 128
        Assert.That(LlmcCheckpoint.ReadInfo(saved).PaddedVocab, Is.EqualTo(128));
    }

    private static IEnumerable<TestCaseData> BadCheckpoints()
    {
        TestCaseData C(string name, Func<byte[], byte[]> edit, string message) => new TestCaseData(edit, message).SetName("Checkpoint_Rejects_" + name);
        static byte[] SetInt(byte[] b, int index, int value) { BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(4 * index), value); return b; }
        yield return C("BadMagic", b => SetInt(b, 0, 20240520), "bad magic 20240520 in header[0]; an llm.c GPT-2 checkpoint starts with 20240326");
        yield return C("Bf16Version", b => SetInt(b, 1, 5), "version 5 (bf16) llm.c checkpoints are not supported");
        yield return C("UnknownVersion", b => SetInt(b, 1, 2), "unsupported llm.c checkpoint version 2 in header[1]");
        yield return C("Truncated", b => b[..^4], "needs exactly");
        yield return C("ExtraBytes", b => [.. b, 0], "needs exactly");
        yield return C("TooSmallForHeader", b => b[..100], "100 bytes is too small for an llm.c checkpoint");
        yield return C("HeadsNotDividingWidth", b => SetInt(b, 5, 3), "impossible model");
        yield return C("PaddedVocabTooSmall", b => SetInt(b, 7, 4), "padded vocabulary header[7] = 4 is smaller than the vocabulary header[3] = 5");
        yield return C("HugeLayerCount", b => SetInt(b, 4, int.MaxValue), "needs exactly");
    }

    [TestCaseSource(nameof(BadCheckpoints))]
    public void Checkpoint_BadFileIsRejected(Func<byte[], byte[]> edit, string message)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.bin");
        File.WriteAllBytes(path, edit(LlmcFile(out _)));
        using var arena = new TensorArena(_backend, GptParameters.Table(Config));
        var ex = Assert.Throws<CheckpointException>(() => LlmcCheckpoint.Load(path, arena, _backend));
        Assert.That(ex!.Message, Does.Contain(message).And.Contain(path));
    }

    [Test]
    public void Checkpoint_ArenaOfAnotherConfigIsRejected()
    {
        using var dir = new TempDir();
        string path = dir.File("gpt2.bin");
        File.WriteAllBytes(path, LlmcFile(out _));
        using var arena = new TensorArena(_backend, GptParameters.Table(Config with { NumLayers = 1 }));
        var ex = Assert.Throws<CheckpointException>(() => LlmcCheckpoint.Load(path, arena, _backend));
        Assert.That(ex!.Message, Does.Contain("tensor 'h.1.ln_1.weight'").And.Contain("does not fit the parameter arena"));
    }

    [Test]
    public void TokenShard_ReadsLlmcLayout_AndWriterMatchesIt()
    {
        using var dir = new TempDir();
        string path = dir.File("tokens.bin");
        int[] tokens = [0, 1, 50256, 65535, 7];
        var bytes = new byte[1024 + 2 * tokens.Length];
        Header(20240520, 1, tokens.Length).CopyTo(bytes, 0);
        for (int i = 0; i < tokens.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(1024 + 2 * i), (ushort)tokens[i]);
        File.WriteAllBytes(path, bytes);
        Assert.That(LlmcTokenShard.Read(path), Is.EqualTo(tokens));

        string written = dir.File("written.bin");
        LlmcTokenShard.Write(written, tokens);
        Assert.That(File.ReadAllBytes(written), Is.EqualTo(bytes));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LlmcTokenShard.Write(written, [1, 65536]));
        Assert.That(ex!.Message, Does.Contain("token 1 is 65536"));
    }

    [TestCase(20240326, 1, 2, 4, "bad magic 20240326 in header[0]; an llm.c token shard starts with 20240520")]
    [TestCase(20240520, 2, 2, 4, "unsupported token shard version 2 in header[1]")]
    [TestCase(20240520, 1, 3, 4, "header[2] says 3 tokens, which needs a file of 1030 bytes, but the file is 1028 bytes")]
    [TestCase(20240520, 1, -1, 4, "header[2] says -1 tokens")]
    [TestCase(20240520, 1, 2, 5, "header[2] says 2 tokens, which needs a file of 1028 bytes, but the file is 1029 bytes")]
    public void TokenShard_BadFileIsRejected(int magic, int version, int count, int dataBytes, string message)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.bin");
        File.WriteAllBytes(path, [.. Header(magic, version, count), .. new byte[dataBytes]]);
        var ex = Assert.Throws<CheckpointException>(() => LlmcTokenShard.Read(path));
        Assert.That(ex!.Message, Does.Contain(message).And.Contain(path));
    }
}
