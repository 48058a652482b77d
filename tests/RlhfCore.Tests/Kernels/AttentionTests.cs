using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// CPU attention against the float64 reference. Tolerances (F32): forward atol 2e-6 + rtol 1e-4,
/// backward atol 2e-5 + rtol 1e-3 (gradients sum over up to T key rows).
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class AttentionTests(string device) : KernelFixture(device)
{
    /// <summary>How the key padding mask is laid out.</summary>
    public enum MaskKind { None, Right, Left, Holes }

    private static int[] MakeMask(Random rng, MaskKind kind, int B, int T)
    {
        var mask = new int[B * T];
        for (int b = 0; b < B; b++)
        {
            int pad = kind is MaskKind.Right or MaskKind.Left ? rng.Next(0, T) : 0;
            for (int t = 0; t < T; t++)
                mask[b * T + t] = kind switch
                {
                    MaskKind.Right => t < T - pad ? 1 : 0,
                    MaskKind.Left => t >= pad ? 1 : 0,
                    MaskKind.Holes => rng.Next(3) == 0 ? 0 : 1,
                    _ => 1,
                };
            // Left padding always hides the first key of the first row, so early queries see nothing.
            if (kind == MaskKind.Left && b == 0 && T > 1) mask[0] = 0;
        }
        return mask;
    }

    private static double[] D(float[] a) => Array.ConvertAll(a, x => (double)x);

    [TestCase(1, 1, 1, 1, MaskKind.None)]
    [TestCase(2, 7, 3, 7, MaskKind.Right)]
    [TestCase(3, 7, 1, 97, MaskKind.Left)]
    [TestCase(1, 97, 7, 16, MaskKind.Left)]
    [TestCase(2, 97, 2, 33, MaskKind.Holes)]
    [TestCase(1, 1025, 1, 7, MaskKind.Left)]
    public void ForwardAndBackwardMatchReference(int B, int T, int NH, int hs, MaskKind kind)
    {
        int C = NH * hs;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 1000 + T * 7 + hs);
        var qkvHost = u.RandomFloats((long)B * T * 3 * C, -2f, 2f);
        var mask = MakeMask(u.Rng, kind, B, T);
        var doutHost = u.RandomFloats((long)B * T * C);
        var qkv = u.Upload(qkvHost, B, T, 3 * C);
        var keyMask = u.Upload(mask, B, T);
        var output = u.Poisoned(B, T, C);
        var att = u.Poisoned(B, NH, T, T);
        backend.AttentionForward(output, att, qkv, keyMask, B, T, C, NH);

        var (refOut, refAtt) = AttentionReference.Forward(D(qkvHost), mask, B, T, C, NH);
        KernelTestUtil.AssertClose(u.Read(output), refOut, 2e-6, 1e-4, "attention out");
        var attHost = u.Read(att);
        KernelTestUtil.AssertClose(attHost, refAtt, 2e-6, 1e-4, "attention probabilities");
        for (int i = 0; i < attHost.Length; i++)
            if (refAtt[i] == 0) Assert.That(attHost[i], Is.Zero, $"att[{i}] is masked or future and must be exactly 0");

        var dqkv = u.Poisoned(B, T, 3 * C);
        var datt = u.Poisoned(B, NH, T, T);
        backend.AttentionBackward(dqkv, datt, u.Upload(doutHost, B, T, C), qkv, att, B, T, C, NH);
        var refDqkv = AttentionReference.Backward(D(doutHost), D(qkvHost), refAtt, B, T, C, NH);
        KernelTestUtil.AssertClose(u.Read(dqkv), refDqkv, 2e-5, 1e-3, "attention dqkv");
    }

    [Test]
    public void QueriesThatSeeNoKeyGetZeroOutputAndZeroGradient()
    {
        const int B = 1, T = 5, NH = 2, hs = 3, C = NH * hs;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 5);
        var qkv = u.Upload(u.RandomFloats(B * T * 3 * C), B, T, 3 * C);
        var keyMask = u.Upload(new[] { 0, 0, 1, 1, 1 }, B, T);
        var output = u.Poisoned(B, T, C);
        var att = u.Poisoned(B, NH, T, T);
        backend.AttentionForward(output, att, qkv, keyMask, B, T, C, NH);
        var o = u.Read(output);
        Assert.That(o.Take(2 * C), Is.All.Zero, "queries 0 and 1 see no key");
        Assert.That(o.Skip(2 * C), Has.None.EqualTo(0f));

        var dqkv = u.Poisoned(B, T, 3 * C);
        backend.AttentionBackward(dqkv, u.Poisoned(B, NH, T, T), u.Upload(u.RandomFloats(B * T * C), B, T, C), qkv, att, B, T, C, NH);
        var d = u.Read(dqkv);
        Assert.That(d.Take(2 * 3 * C), Is.All.Zero, "no gradient reaches or leaves masked positions");
    }

    [Test]
    public void ReferenceBackwardMatchesFiniteDifferences()
    {
        const int B = 2, T = 4, NH = 2, hs = 3, C = NH * hs;
        var rng = new Random(11);
        var qkv = Enumerable.Range(0, B * T * 3 * C).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        var w = Enumerable.Range(0, B * T * C).Select(_ => rng.NextDouble() * 2 - 1).ToArray();
        int[] mask = [0, 1, 1, 0, 1, 1, 0, 1]; // left padding, a hole and right padding
        double Loss(double[] x) => AttentionReference.Forward(x, mask, B, T, C, NH).Out.Zip(w, (o, g) => o * g).Sum();

        var att = AttentionReference.Forward(qkv, mask, B, T, C, NH).Att;
        var grad = AttentionReference.Backward(w, qkv, att, B, T, C, NH);
        const double h = 1e-6;
        for (int i = 0; i < qkv.Length; i++)
        {
            double saved = qkv[i];
            qkv[i] = saved + h; double up = Loss(qkv);
            qkv[i] = saved - h; double down = Loss(qkv);
            qkv[i] = saved;
            Assert.That(grad[i], Is.EqualTo((up - down) / (2 * h)).Within(1e-7), $"d loss / d qkv[{i}]");
        }
    }

    [TestCase(3, 13, 2, 20, 5, 1)]
    [TestCase(2, 9, 3, 7, 1, 3)]
    [TestCase(1, 40, 1, 64, 17, 4)]
    public void DecodeWithKvCacheEqualsFullForward(int B, int T, int NH, int hs, int prefill, int step)
    {
        // Bit for bit on the CPU backend (one row routine for both). The ILGPU decode kernel sums in another
        // order than the forward: outputs are O(1) averages of O(1) values, so float rounding stays below 1e-5.
        double tol = Device == KernelBackends.Cpu ? 0 : 1e-5;
        int C = NH * hs, maxT = T + 3;
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 77 + T);
        var qkvHost = u.RandomFloats((long)B * T * 3 * C, -2f, 2f);
        var mask = MakeMask(u.Rng, MaskKind.Left, B, T);
        var full = u.Poisoned(B, T, C);
        backend.AttentionForward(full, u.Poisoned(B, NH, T, T), u.Upload(qkvHost, B, T, 3 * C), u.Upload(mask, B, T), B, T, C, NH);
        var fullHost = u.Read(full);

        var cacheMask = new int[B * maxT];
        for (int b = 0; b < B; b++) Array.Copy(mask, b * T, cacheMask, b * maxT, T);
        var keyMask = u.Upload(cacheMask, B, maxT);
        var kCache = u.Poisoned(B, NH, maxT, hs);
        var vCache = u.Poisoned(B, NH, maxT, hs);
        for (int past = 0; past < T;)
        {
            int tq = Math.Min(past == 0 ? prefill : step, T - past);
            var chunk = new float[B * tq * 3 * C];
            for (int b = 0; b < B; b++)
                Array.Copy(qkvHost, (b * T + past) * 3 * C, chunk, b * tq * 3 * C, tq * 3 * C);
            var output = u.Poisoned(B, tq, C);
            backend.AttentionDecodeForward(output, kCache, vCache, u.Upload(chunk, B, tq, 3 * C), keyMask, past, B, tq, C, NH, maxT);
            var got = u.Read(output);
            for (int b = 0; b < B; b++)
            for (int i = 0; i < tq; i++)
            for (int c = 0; c < C; c++)
                Assert.That(got[(b * tq + i) * C + c], Is.EqualTo(fullHost[(b * T + past + i) * C + c]).Within(tol),
                    $"b {b}, position {past + i}, channel {c}");
            past += tq;
        }
        var k = u.Read(kCache);
        for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++)
        for (int i = 0; i < hs; i++)
            Assert.That(k[((b * NH + h) * maxT + t) * hs + i], Is.EqualTo(qkvHost[(b * T + t) * 3 * C + C + h * hs + i]), "cached key");
    }

    [Test]
    public void DecodePastTheCacheThrows()
    {
        var backend = Backend;
        using var u = new KernelTestUtil(backend, seed: 3);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => backend.AttentionDecodeForward(
            u.Poisoned(1, 2, 4), u.Poisoned(1, 1, 4, 4), u.Poisoned(1, 1, 4, 4), u.Poisoned(1, 2, 12),
            u.Upload(new[] { 1, 1, 1, 1 }, 1, 4), 3, 1, 2, 4, 1, 4));
        Assert.That(ex!.Message, Does.Contain("[3, 5)"));
    }

    [Test]
    public void BitIdenticalAcrossThreadCounts()
    {
        CpuBackendOnly("bit-identical results for any worker-thread count");
        const int B = 2, T = 33, NH = 3, hs = 24, C = NH * hs;
        float[] Run(int threads)
        {
            using var backend = new CpuBackend(threads);
            using var u = new KernelTestUtil(backend, seed: 9);
            var qkv = u.Upload(u.RandomFloats(B * T * 3 * C, -3f, 3f), B, T, 3 * C);
            var mask = u.Upload(MakeMask(u.Rng, MaskKind.Holes, B, T), B, T);
            var output = u.Poisoned(B, T, C);
            var att = u.Poisoned(B, NH, T, T);
            var dqkv = u.Poisoned(B, T, 3 * C);
            backend.AttentionForward(output, att, qkv, mask, B, T, C, NH);
            backend.AttentionBackward(dqkv, u.Poisoned(B, NH, T, T), u.Upload(u.RandomFloats(B * T * C), B, T, C), qkv, att, B, T, C, NH);
            return [.. u.Read(output), .. u.Read(dqkv)];
        }
        Assert.That(Run(5), Is.EqualTo(Run(2)));
    }
}
