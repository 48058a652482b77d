using RlhfCore.Rl.Ilql;
using RlhfCore.Tensors;
using RlhfCore.Tests.Kernels;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Ilql;

/// <summary>
/// ILQL's heads and losses on each backend against <see cref="IlqlReference"/>: two sequences of T = 5 with action rows at
/// different offsets (so some rows have a next state and some are terminal), C = 7, V = 11, random hidden states, head
/// weights and LM logits, target heads different from the Q heads, and β &gt; 0 so the AWAC weight matters. The loss must
/// match to 1e-5 relative; every gradient (hidden states, each head's weight and bias, LM logits) must match central
/// differences (h = 1e-6) of the float64 reference with trlx's detached values held fixed, to 2e-5 + 1e-3·|fd| (float matmuls).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class IlqlLossTests(string device) : KernelFixture(device)
{
    private const int Rows = 2, T = 5, C = 7, V = 11, N = Rows * T;
    private static readonly IlqlSettings Settings = new(Tau: 0.7, Gamma: 0.9, CqlScale: 0.3, AwacScale: 0.8, Alpha: 0.05, Beta: 0.5, TwoQs: true);
    private static readonly IlqlReference.Settings RefSettings = new(0.7, 0.9, 0.3, 0.8, 0.5);

    private static double[] D(float[] a) => a.Select(v => (double)v).ToArray();

    private static IlqlReference.Inputs MakeInputs(KernelTestUtil u, bool twoQs = true)
    {
        int heads = twoQs ? 2 : 1;
        double[] R(int n) => D(u.RandomFloats(n, -0.6f, 0.6f));
        var mask = new double[N];
        for (int t = 1; t <= 3; t++) mask[t] = 1;          // sequence 0: actions at 1..3, terminal after 3
        for (int t = 2; t <= 4; t++) mask[T + t] = 1;      // sequence 1: actions at 2..4, the row's end is terminal
        var rewards = new double[N];
        rewards[3] = 1.0; rewards[T + 4] = -0.5; rewards[2] = 0.1;
        return new IlqlReference.Inputs(D(u.RandomFloats(N * C)), [.. Enumerable.Range(0, heads).Select(_ => R(V * C))], [.. Enumerable.Range(0, heads).Select(_ => R(V))],
            [.. Enumerable.Range(0, heads).Select(_ => R(V * C))], [.. Enumerable.Range(0, heads).Select(_ => R(V))], R(C), 0.1, D(u.RandomFloats(N * V, -2f, 2f)),
            u.RandomInts(N, 0, V), mask, rewards, Rows, T, C, V);
    }

    private static float[] F(double[] a) => a.Select(v => (float)v).ToArray();

    private sealed record Outputs(IlqlStats Stats, float[] DH, float[] DLm, Dictionary<string, float[]> Grads);

    private static Outputs RunKernels(KernelTestUtil u, IlqlReference.Inputs x, IlqlSettings s)
    {
        using var heads = new IlqlHeads(u.Backend, C, V, N, s.TwoQs);
        for (int i = 0; i < heads.QHeads; i++)
        {
            u.Backend.Upload<float>(heads.Parameters[$"q{i}.weight"], F(x.QW[i]));
            u.Backend.Upload<float>(heads.Parameters[$"q{i}.bias"], F(x.QB[i]));
            u.Backend.Upload<float>(heads.Parameters[$"target_q{i}.weight"], F(x.TW[i]));
            u.Backend.Upload<float>(heads.Parameters[$"target_q{i}.bias"], F(x.TB[i]));
        }
        u.Backend.Upload<float>(heads.Parameters["v.weight"], F(x.VW));
        u.Backend.Upload<float>(heads.Parameters["v.bias"], [(float)x.VB]);
        using var loss = new IlqlLoss(u.Backend, s, N);
        Tensor h = u.Upload(F(x.H), N, C), lm = u.Upload(F(x.Lm), N, V), dlm = u.Poisoned(N, V), dh = u.Poisoned(N, C);
        heads.Forward(h, N);
        var stats = loss.Run(heads, u.Upload(x.Actions), F(x.Mask), F(x.Rewards), Rows, T, lm, dlm, backward: true);
        heads.Backward(dh, h, N, accumulateDh: false);
        var grads = heads.Gradients.Specs.ToDictionary(sp => sp.Name, sp => u.Read(heads.Gradients[sp.Name]));
        return new Outputs(stats, u.Read(dh), u.Read(dlm), grads);
    }

    /// <summary>Central differences of the reference with respect to every element of <paramref name="p"/>.</summary>
    private static double[] Fd(double[] p, Func<double> loss)
    {
        const double h = 1e-6;
        var g = new double[p.Length];
        for (int i = 0; i < p.Length; i++)
        {
            double keep = p[i];
            p[i] = keep + h; double up = loss();
            p[i] = keep - h; double down = loss();
            p[i] = keep;
            g[i] = (up - down) / (2 * h);
        }
        return g;
    }

    [Test]
    public void LossMatchesTheReference([Values(true, false)] bool twoQs)
    {
        using var u = new KernelTestUtil(Backend, seed: twoQs ? 41 : 42);
        var x = MakeInputs(u, twoQs);
        var got = RunKernels(u, x, Settings with { TwoQs = twoQs });
        double want = IlqlReference.Loss(x, RefSettings, IlqlReference.Freeze(x, RefSettings));
        Assert.That(got.Stats.Loss, Is.EqualTo(want).Within(1e-5 * Math.Abs(want)));
        Assert.That(got.Stats.LossQ, Is.GreaterThan(0));
        Assert.That(got.Stats.LossCql, Is.GreaterThan(0));
    }

    [Test]
    public void GradientsMatchFiniteDifferences()
    {
        using var u = new KernelTestUtil(Backend, seed: 43);
        var x = MakeInputs(u);
        var got = RunKernels(u, x, Settings);
        var frozen = IlqlReference.Freeze(x, RefSettings);
        double L() => IlqlReference.Loss(x, RefSettings, frozen);
        KernelTestUtil.AssertClose(got.DH, Fd(x.H, L), 2e-5, 1e-3, "dh");
        KernelTestUtil.AssertClose(got.DLm, Fd(x.Lm, L), 2e-5, 1e-3, "LM dlogits");
        for (int i = 0; i < 2; i++)
        {
            KernelTestUtil.AssertClose(got.Grads[$"q{i}.weight"], Fd(x.QW[i], L), 2e-5, 1e-3, $"q{i}.weight");
            KernelTestUtil.AssertClose(got.Grads[$"q{i}.bias"], Fd(x.QB[i], L), 2e-5, 1e-3, $"q{i}.bias");
        }
        KernelTestUtil.AssertClose(got.Grads["v.weight"], Fd(x.VW, L), 2e-5, 1e-3, "v.weight");
        var vb = new[] { x.VB };
        var xs = x;
        double LVb() => IlqlReference.Loss(xs with { VB = vb[0] }, RefSettings, frozen);
        KernelTestUtil.AssertClose(got.Grads["v.bias"], Fd(vb, LVb), 2e-5, 1e-3, "v.bias");
    }

    [Test]
    public void PolyakUpdateMovesTargetsByAlpha()
    {
        using var u = new KernelTestUtil(Backend, seed: 44);
        using var heads = new IlqlHeads(u.Backend, C, V, N, twoQs: true);
        heads.InitializeWeights(7);
        var q = u.RandomFloats(V * C);
        var t0 = u.Read(heads.Parameters["target_q1.weight"]);
        Assert.That(t0, Is.EqualTo(u.Read(heads.Parameters["q1.weight"])), "targets start as copies");
        u.Backend.Upload<float>(heads.Parameters["q1.weight"], q);
        heads.SyncTargets(0.25);
        var want = t0.Select((t, i) => 0.25 * q[i] + 0.75 * t).ToArray();
        KernelTestUtil.AssertClose(u.Read(heads.Parameters["target_q1.weight"]), want, 1e-7, 1e-6, "target ← α·Q + (1 − α)·target");
    }
}
