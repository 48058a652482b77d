using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tensors;
using RlhfCore.Training.Ilql;

namespace RlhfCore.Tests.Ilql;

/// <summary>The ILQL trainer: one optimizer over the policy and the trainable heads, and the target heads' Polyak cadence.</summary>
public class IlqlTrainerTests
{
    private static float[] Read(CpuBackend be, RlhfCore.Tensors.Tensor t)
    {
        var v = new float[t.Length];
        be.Download<float>(t, v);
        return v;
    }

    [Test]
    public void BatchRowsByHand_ActionsAreTheCompletionAndTheRewardIsAtItsLastToken()
    {
        // "ab" → "c": tokens a b c EOS, inputs a b c; position 1 takes action c, position 2 takes EOS and gets the reward.
        var s = IlqlSequence.From(new IlqlExample("ab", "c", 0.5, "mem line 1"), ByteTokenizer.Instance, seqLen: 5, vocabSize: 260);
        int eos = ByteTokenizer.Instance.EndOfText;
        Assert.That(s.Tokens, Is.EqualTo(new[] { 'a', 'b', 'c', eos }));
        var batch = new IlqlBatch(rows: 2, seqLen: 5);
        batch.Write(1, s);
        Assert.That(batch.Tokens[5..], Is.EqualTo(new[] { 'a', 'b', 'c', 0, 0 }));
        Assert.That(batch.KeyMask[5..], Is.EqualTo(new[] { 1, 1, 1, 0, 0 }));
        Assert.That(batch.Positions[5..], Is.EqualTo(new[] { 0, 1, 2, 0, 0 }));
        Assert.That(batch.Actions[5..], Is.EqualTo(new[] { 0, 'c', eos, 0, 0 }));
        Assert.That(batch.Mask[5..], Is.EqualTo(new[] { 0f, 1, 1, 0, 0 }));
        Assert.That(batch.Rewards[5..], Is.EqualTo(new[] { 0f, 0, 0.5f, 0, 0 }));
    }

    [Test]
    public void TooLongExample_IsAnErrorNamingItsLine()
    {
        var e = Assert.Throws<ArgumentException>(() => IlqlSequence.From(new IlqlExample("abcdef", "ghij", 1, "r.jsonl line 7"), ByteTokenizer.Instance, seqLen: 8, vocabSize: 260))!;
        Assert.That(e.Message, Does.StartWith("r.jsonl line 7:").And.Contain("--seq-len"));
    }

    [Test]
    public void OneOptimizerTrainsTrunkAndHeads_TargetsMoveOnlyOnTheirCadence()
    {
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16));
        policy.InitializeWeights(3);
        var o = new IlqlOptions { Batch = 4, SeqLen = 8, Steps = 10, Lr = 3e-3f, Warmup = 0, EvalEvery = 0, CheckpointEvery = 0, TargetSyncEvery = 2, Alpha = 0.5 };
        using var t = new IlqlTrainer(policy, IlqlTestKit.Sequences(20, o.SeqLen), null, o);
        Assert.That(t.Optimizer.Rules.Select(r => r.Tensor), Does.Contain("ilql.q0.weight").And.Contain("ilql.q1.bias").And.Contain("ilql.v.weight").And.Contain("wte.weight"));
        Assert.That(t.Optimizer.Rules.Select(r => r.Tensor), Has.None.Contains("target"), "the target heads are not trained");

        var p = t.Heads.Parameters;
        float[] q0 = Read(be, p["q0.weight"]), v0 = Read(be, p["v.weight"]), target0 = Read(be, p["target_q0.weight"]), wte0 = Read(be, policy.Parameters["wte.weight"]);
        t.Step();
        Assert.That(Read(be, p["q0.weight"]), Is.Not.EqualTo(q0), "Q head trained");
        Assert.That(Read(be, p["v.weight"]), Is.Not.EqualTo(v0), "V head trained");
        Assert.That(Read(be, policy.Parameters["wte.weight"]), Is.Not.EqualTo(wte0), "trunk trained");
        Assert.That(Read(be, p["target_q0.weight"]), Is.EqualTo(target0), "no target sync after step 1 of every 2");
        t.Step();
        var q = Read(be, p["q0.weight"]);
        var target = Read(be, p["target_q0.weight"]);
        for (int i = 0; i < q.Length; i++)
            Assert.That(target[i], Is.EqualTo(0.5f * q[i] + 0.5f * target0[i]).Within(1e-6), $"target[{i}] after the sync at step 2");
    }
}

/// <summary>IlqlLoss's gradient scale (1 / micro-batches under accumulation) scales every gradient it writes, and no stat.</summary>
public class IlqlLossScaleTests
{
    [Test]
    public void GradScaleScalesEveryGradient_AndLeavesTheStats()
    {
        const int B = 2, T = 4, N = B * T, C = 6, V = 9;
        var s = new IlqlSettings(Beta: 0.5);
        (IlqlStats Stats, float[] DQ0, float[] DQ1, float[] DV, float[] DLogits) Run(double scale)
        {
            using var be = new CpuBackend(1);
            using var u = new KernelTestUtil(be, seed: 7);
            using var heads = new IlqlHeads(be, C, V, N, twoQs: true);
            heads.InitializeWeights(2);
            using var loss = new IlqlLoss(be, s, N);
            var h = u.Upload(u.RandomFloats(N * C), N, C);
            var logits = u.Upload(u.RandomFloats(N * V, -2f, 2f), N, V);
            var actions = u.Alloc(DType.I32, N);
            be.Upload<int>(actions, u.RandomInts(N, 0, V));
            float[] mask = [0, 1, 1, 1, 0, 0, 1, 1], rewards = [0, 0, 0, 1, 0, 0, 0, -0.5f];
            heads.Forward(h, N);
            var stats = loss.Run(heads, actions, mask, rewards, B, T, logits, logits, backward: true, gradScale: scale);
            return (stats, u.Read(heads.Q(0)), u.Read(heads.Q(1)), u.Read(heads.DValues), u.Read(logits));
        }
        var one = Run(1);
        var half = Run(0.5);
        Assert.That(half.Stats, Is.EqualTo(one.Stats), "the stats are the unscaled loss's");
        foreach (var (a, b, what) in new[] { (half.DQ0, one.DQ0, "dQ0"), (half.DQ1, one.DQ1, "dQ1"), (half.DV, one.DV, "dV"), (half.DLogits, one.DLogits, "dlogits") })
        {
            Assert.That(b.Any(x => x != 0), $"{what} is not all zero");
            for (int i = 0; i < a.Length; i++) Assert.That(a[i], Is.EqualTo(0.5f * b[i]).Within(1e-6 + 1e-5 * Math.Abs(b[i])), $"{what}[{i}]");
        }
    }
}
