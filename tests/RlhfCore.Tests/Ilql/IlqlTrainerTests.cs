using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
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
