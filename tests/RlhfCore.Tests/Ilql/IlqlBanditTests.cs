using RlhfCore.Backends.Cpu;
using RlhfCore.Rl.Ilql;
using RlhfCore.Tensors;

namespace RlhfCore.Tests.Ilql;

/// <summary>
/// ILQL on a one-step bandit from offline data: one state (a fixed feature vector), five actions, a poor behaviour policy that
/// picks action 0 with probability 0.6 and each other with 0.1, and reward 1 only for action 3. The Q/V heads and an LM head
/// over the fixed features train with all four ILQL losses (AWAC with β = 0 is behaviour cloning, so the LM head learns the
/// poor policy) for 300 AdamW steps; the target heads follow with α = 0.1 every step (faster than trlx's 0.001 every 5 steps,
/// so 300 steps suffice). Then the LM alone picks action 0 greedily, and the advantage-shifted logits with β = 4 pick action 3:
/// by hand, Q(3) → 1, Q(others) → 0 and V → the 0.7-expectile of the data's target Q, about 0.21, so the shift is about
/// +3.2 for action 3 and −0.8 for the rest, against a behaviour log-prob gap of ln 6 ≈ 1.8.
/// </summary>
public class IlqlBanditTests
{
    private const int K = 5, C = 8, Batch = 64, Best = 3, Bad = 0;

    [Test]
    public void AdvantageShiftedGreedyActionIsTheBestOne()
    {
        using var be = new CpuBackend(2);
        using var u = new KernelTestUtil(be, seed: 5);
        var rng = new Rng(11);
        var data = Enumerable.Range(0, 1024).Select(_ =>
        {
            double p = rng.NextDouble();
            return p < 0.6 ? Bad : 1 + (int)((p - 0.6) / 0.1);
        }).ToArray();
        Assert.That(data.Count(a => a == Best) / 1024.0, Is.EqualTo(0.1).Within(0.03), "the behaviour policy rarely picks the best action");

        var s = new IlqlSettings(Tau: 0.7, Gamma: 0.99, CqlScale: 0.1, AwacScale: 1, Alpha: 0.1, Beta: 0, TwoQs: true);
        using var heads = new IlqlHeads(be, C, K, Batch, s.TwoQs);
        heads.InitializeWeights(3);
        using var loss = new IlqlLoss(be, s, Batch);
        var h0 = u.RandomFloats(C);
        Tensor h = u.Upload(Enumerable.Range(0, Batch).SelectMany(_ => h0).ToArray(), Batch, C);
        Tensor lmW = u.Upload(u.RandomFloats(K * C, -0.02f, 0.02f), K, C), lmB = u.Upload(new float[K]), dlmW = u.Upload(new float[K * C], K, C), dlmB = u.Upload(new float[K]);
        Tensor logits = u.Poisoned(Batch, K), dh = u.Poisoned(Batch, C), actions = u.Alloc(DType.I32, Batch);
        var trainable = heads.Gradients.Specs.Select(sp => (P: heads.Parameters[sp.Name], G: heads.Gradients[sp.Name])).Append((P: lmW, G: dlmW)).Append((P: lmB, G: dlmB)).ToList();
        var moments = trainable.Select(t => (M: u.Upload(new float[t.P.Length]), V: u.Upload(new float[t.P.Length]))).ToList();
        var mask = Enumerable.Repeat(1f, Batch).ToArray();
        var rewards = new float[Batch];
        var batchActions = new int[Batch];

        for (int step = 1; step <= 300; step++)
        {
            for (int i = 0; i < Batch; i++)
            {
                batchActions[i] = data[(step * Batch + i) % data.Length];
                rewards[i] = batchActions[i] == Best ? 1f : 0f;
            }
            be.Upload<int>(actions, batchActions);
            be.Zero(heads.Gradients.All);
            be.Zero(dlmW);
            be.Zero(dlmB);
            heads.Forward(h, Batch);
            be.MatmulForward(logits, h, lmW, lmB, Batch, C, K);
            var stats = loss.Run(heads, actions, mask, rewards, Batch, T: 1, logits, logits, backward: true);
            Assert.That(double.IsFinite(stats.Loss), $"step {step}");
            heads.Backward(dh, h, Batch, accumulateDh: false);
            be.MatmulBackward(Tensor.None, dlmW, dlmB, logits, h, lmW, Batch, C, K);
            for (int j = 0; j < trainable.Count; j++)
                be.AdamWUpdate(trainable[j].P, trainable[j].G, moments[j].M, moments[j].V, trainable[j].P.Length, 0.03f, 0.9f, 0.999f, 1e-8f, 0f, 1f, step);
            heads.SyncTargets(s.Alpha);
        }

        heads.Forward(h, 1);
        be.MatmulForward(logits, h, lmW, lmB, 1, C, K);
        var lm = u.Read(logits)[..K];
        var minQ = IlqlDecoding.MinOfHeads([u.Read(heads.TargetQ(0))[..K], u.Read(heads.TargetQ(1))[..K]]);
        var v = u.Read(heads.Values)[..1];
        var shifted = new float[K];
        IlqlDecoding.ShiftedLogits(lm, minQ, v, beta: 4, B: 1, V: K, shifted);
        TestContext.Out.WriteLine($"LM {string.Join(" ", lm)}; min target Q {string.Join(" ", minQ)}; V {v[0]}; shifted {string.Join(" ", shifted)}");
        Assert.That(Array.IndexOf(lm, lm.Max()), Is.EqualTo(Bad), "behaviour cloning alone keeps the poor action");
        Assert.That(minQ[Best], Is.GreaterThan(0.7f), "Q learned the reward of the best action");
        Assert.That(Array.IndexOf(shifted, shifted.Max()), Is.EqualTo(Best), "the advantage-shifted greedy action is the best one");
    }
}
