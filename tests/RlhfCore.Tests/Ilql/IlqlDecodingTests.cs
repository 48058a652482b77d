using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Data.Tasks;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tensors;
using RlhfCore.Tests.Dpo;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using CliRunner = RlhfCore.Tests.Reliability.Cli;

namespace RlhfCore.Tests.Ilql;

/// <summary>
/// ILQL decoding through <see cref="IlqlLogitsShaper"/>: with β = 0 it is plain decoding bit for bit; with a target Q head that
/// strongly prefers one token, greedy decoding picks it, in <see cref="GptGenerator"/>, in <see cref="GoldEvaluation"/> and in
/// <c>rlhf generate --ilql-heads</c>.
/// </summary>
public class IlqlDecodingTests
{
    private static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 24, NumLayers: 1, NumHeads: 2, Channels: 16);
    private const int Preferred = '7';

    private static GptModel Model(CpuBackend be)
    {
        var m = new GptModel(be, Config);
        m.InitializeWeights(9);
        return m;
    }

    /// <summary>Random heads, except that every target Q head's bias puts +20 on <see cref="Preferred"/> when <paramref name="prefer"/>.</summary>
    private static IlqlHeads Heads(CpuBackend be, int rows, bool prefer)
    {
        var h = new IlqlHeads(be, Config.Channels, Config.VocabSize, rows, twoQs: true);
        h.InitializeWeights(4);
        if (prefer)
            for (int i = 0; i < 2; i++)
            {
                var bias = new float[Config.VocabSize];
                bias[Preferred] = 20;
                be.Upload<float>(h.Parameters[$"target_q{i}.bias"], bias);
            }
        return h;
    }

    private static (GeneratedSequence[] Out, List<float[]> Logits) Generate(CpuBackend be, GptModel m, int[][] prompts, float temperature, ILogitsShaper? shaper)
    {
        using var gen = new GptGenerator(m, prompts.Length, prompts.Max(p => p.Length));
        var logits = new List<float[]>();
        var o = gen.Generate(prompts, new SamplingOptions(8, temperature), new Rng(3), (_, t) =>
        {
            var v = new float[t.Length];
            be.Download<float>(t, v);
            logits.Add(v);
        }, shaper);
        return (o, logits);
    }

    private static readonly int[][] Prompts = [[1, 2, 3], [40, 41], [100]];

    [TestCase(0f)]
    [TestCase(1f)]
    public void BetaZero_IsPlainDecodingBitForBit(float temperature)
    {
        using var be = new CpuBackend(1);
        using var m = Model(be);
        using var heads = Heads(be, Prompts.Length, prefer: true);
        var (plain, plainLogits) = Generate(be, m, Prompts, temperature, null);
        var (ilql, ilqlLogits) = Generate(be, m, Prompts, temperature, new IlqlLogitsShaper(be, heads, beta: 0));
        Assert.That(ilql.Select(s => s.Tokens), Is.EqualTo(plain.Select(s => s.Tokens)));
        Assert.That(ilqlLogits.Count, Is.EqualTo(plainLogits.Count));
        for (int s = 0; s < plainLogits.Count; s++)
            Assert.That(ilqlLogits[s].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(plainLogits[s].Select(BitConverter.SingleToInt32Bits)), $"step {s}");
    }

    [Test]
    public void GreedyPicksTheTokenTheQHeadPrefers_AndTheShiftIsIlqlDecodings()
    {
        using var be = new CpuBackend(1);
        using var m = Model(be);
        using var heads = Heads(be, Prompts.Length, prefer: true);
        var (plain, plainLogits) = Generate(be, m, Prompts, 0, null);
        Assert.That(plain.SelectMany(s => s.Tokens), Has.Some.Not.EqualTo(Preferred), "the plain model does not already pick it");
        var (ilql, ilqlLogits) = Generate(be, m, Prompts, 0, new IlqlLogitsShaper(be, heads, beta: 1));
        Assert.That(ilql.SelectMany(s => s.Tokens), Is.All.EqualTo(Preferred));

        // Step 0 sees the same prompts either way: its shaped logits are IlqlDecoding's shift of the plain ones, computed
        // here from a full forward of the trunk (the heads on its last hidden state of each row).
        int B = Prompts.Length, V = Config.VocabSize, C = Config.Channels;
        var hidden = new float[B * C];
        for (int b = 0; b < B; b++)
        {
            using var acts = new GptActivations(be, Config, 1, Prompts[b].Length);
            be.Upload<int>(acts.Tokens, Prompts[b]);
            be.Upload<int>(acts.Positions, [.. Enumerable.Range(0, Prompts[b].Length)]);
            be.Upload<int>(acts.KeyMask, [.. Enumerable.Repeat(1, Prompts[b].Length)]);
            m.Forward(acts, 1, Prompts[b].Length);
            var lnf = new float[acts.Lnf.Length];
            be.Download<float>(acts.Lnf, lnf);
            Array.Copy(lnf, (Prompts[b].Length - 1) * C, hidden, b * C, C);
        }
        using var check = Heads(be, B, prefer: true);
        using var arena = new TensorArena(be, [new("h", DType.F32, [B, C])]);
        be.Upload<float>(arena["h"], hidden);
        check.Forward(arena["h"], B);
        float[] Read(Tensor t) { var v = new float[t.Length]; be.Download<float>(t, v); return v; }
        var expected = new float[B * V];
        IlqlDecoding.ShiftedLogits(plainLogits[0], IlqlDecoding.MinOfHeads([Read(check.TargetQ(0)), Read(check.TargetQ(1))]), Read(check.Values), 1, B, V, expected);
        for (int j = 0; j < expected.Length; j++)
            Assert.That(ilqlLogits[0][j], Is.EqualTo(expected[j]).Within(1e-4), $"shaped logit {j}");
    }

    [Test]
    public void GoldEvaluation_DecodesThroughTheShaper()
    {
        using var be = new CpuBackend(1);
        using var m = Model(be);
        var task = GoldTasks.Create("arithmetic", new ArithmeticTask(MaxOperand: 9));
        var prompts = GoldEvaluation.Prompts(task, 4, 1);
        using var heads = Heads(be, 4, prefer: true);
        var plain = GoldEvaluation.Run(task, m, ByteTokenizer.Instance, prompts, batch: 4);
        var ilql = GoldEvaluation.Run(task, m, ByteTokenizer.Instance, prompts, batch: 4, shaper: new IlqlLogitsShaper(be, heads, 1));
        Assert.That(ilql.Completions, Is.All.Match("^7+$"));
        Assert.That(plain.Completions, Has.Some.Not.Match("^7+$"));
    }

    [Test]
    public void GenerateCommand_IlqlHeads_BetaZeroIsPlain_AndAPreferringHeadWins()
    {
        using var dir = new TempDir();
        string model = dir.File("model.safetensors"), headsFile = dir.File(IlqlHeadsFile.FileName);
        using (var be = new CpuBackend(1))
        {
            using var m = Model(be);
            Gpt2Checkpoint.Save(model, m.Config, m.Heads, m.Parameters);
            using var h = Heads(be, 1, prefer: true);
            IlqlHeadsFile.Save(headsFile, h, be);
        }
        string[] Args(params string[] more) => ["generate", "--model", model, "--prompt", "1+2=", "--max-new-tokens", "6", "--temperature", "0", "--ignore-eos", "--threads", "1", .. more];
        var plain = CliRunner.Process(Args());
        var zero = CliRunner.Process(Args("--ilql-heads", headsFile, "--ilql-beta", "0"));
        var shifted = CliRunner.Process(Args("--ilql-heads", headsFile, "--ilql-beta", "1"));
        Assert.That(plain.Code, Is.Zero, plain.ToString());
        Assert.That(zero.Stdout, Is.EqualTo(plain.Stdout), zero.ToString());
        Assert.That(shifted.Stdout.Trim(), Is.EqualTo("1+2=777777 (no EOS)"), shifted.ToString());
        Assert.That(plain.Stdout.Trim(), Is.Not.EqualTo(shifted.Stdout.Trim()));
    }
}
