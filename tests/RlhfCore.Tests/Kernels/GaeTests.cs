using RlhfCore.Backends.Cpu;
using RlhfCore.Tests.Reference;

namespace RlhfCore.Tests.Kernels;

/// <summary>
/// GAE and masked normalization against a hand-worked example and <see cref="GaeReference"/>.
/// Tolerances: advantages and returns 1e-5 + 1e-5·|ref| (a float scan over ≤ 1025 steps with γλ ≈ 0.94
/// sums ~17 terms of size ~2); moments 1e-5·(1 + Σ|terms|), as the kernel sums the float advantages.
/// </summary>
[TestFixtureSource(typeof(KernelBackends), nameof(KernelBackends.All))]
public class GaeTests(string device) : KernelFixture(device)
{
    /// <summary>
    /// γ = 0.9, λ = 0.8 (γλ = 0.72), three rows of T = 4: no padding, holes mid-row and at the right,
    /// and left padding. Worked by hand from the end of each row:
    /// <code>
    /// row 0  r = [0, 0, 0, 1]  V = [0.5, 0.4, 0.3, 0.2]  mask = [1, 1, 1, 1]
    ///   t=3  δ = 1 + 0.9·0   − 0.2 =  0.8     A = 0.8                         R = 1.0
    ///   t=2  δ = 0 + 0.9·0.2 − 0.3 = −0.12    A = −0.12 + 0.72·0.8     = 0.456      R = 0.756
    ///   t=1  δ = 0 + 0.9·0.3 − 0.4 = −0.13    A = −0.13 + 0.72·0.456   = 0.19832    R = 0.59832
    ///   t=0  δ = 0 + 0.9·0.4 − 0.5 = −0.14    A = −0.14 + 0.72·0.19832 = 0.0027904  R = 0.5027904
    /// row 1  r = [0.5, 9, 1, 9]  V = [0.1, 9, 0.2, 9]  mask = [1, 0, 1, 0]   (the 9s must be ignored)
    ///   t=3, t=1 masked: A = R = 0
    ///   t=2  no real successor: δ = 1 − 0.2 = 0.8              A = 0.8    R = 1.0
    ///   t=0  successor t=2: δ = 0.5 + 0.9·0.2 − 0.1 = 0.58     A = 0.58 + 0.72·0.8 = 1.156   R = 1.256
    /// row 2  r = [9, 0, 0, 1]  V = [9, 0.4, 0.3, 0.2]  mask = [0, 1, 1, 1]: row 0 shifted, t=0 masked
    ///   A = [0, 0.19832, 0.456, 0.8]   R = [0, 0.59832, 0.756, 1.0]
    /// moments: Σ mask = 4 + 2 + 3 = 9
    ///   Σ A  = 1.4571104 + 1.956 + 1.45432 = 4.8674304
    ///   Σ A² = (0.0000077863 + 0.0393308 + 0.207936 + 0.64) + (1.336336 + 0.64) + (0.0393308 + 0.207936 + 0.64)
    ///        = 3.7508774311
    /// </code>
    /// </summary>
    [Test]
    public void HandWorkedExample()
    {
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: 1);
        float[] rewards = [0, 0, 0, 1, 0.5f, 9, 1, 9, 9, 0, 0, 1];
        float[] values = [0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 9, 0.2f, 9, 9, 0.4f, 0.3f, 0.2f];
        float[] mask = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1];
        var (adv, ret, mom) = (u.Poisoned(3, 4), u.Poisoned(3, 4), u.Poisoned(3));
        be.GaeForward(adv, ret, mom, u.Upload(rewards, 3, 4), u.Upload(values, 3, 4), u.Upload(mask, 3, 4), 3, 4, 0.9f, 0.8f);

        KernelTestUtil.AssertClose(u.Read(adv),
            [0.0027904, 0.19832, 0.456, 0.8, 1.156, 0, 0.8, 0, 0, 0.19832, 0.456, 0.8], 1e-6, 1e-6, "advantages");
        KernelTestUtil.AssertClose(u.Read(ret),
            [0.5027904, 0.59832, 0.756, 1.0, 1.256, 0, 1.0, 0, 0, 0.59832, 0.756, 1.0], 1e-6, 1e-6, "returns");
        KernelTestUtil.AssertClose(u.Read(mom), [9, 4.8674304, 3.75087743113216], 1e-6, 1e-6, "moments");
    }

    /// <summary>Random rows whose masks have left padding, right padding, holes, or no real position at all.</summary>
    [Test]
    public void MatchesReferenceWithMasks([Values(1, 7, 97)] int B, [Values(1, 7, 97, 1025)] int T)
    {
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: 31 * B + T);
        var rewards = u.RandomFloats(B * T, -1, 1);
        var values = u.RandomFloats(B * T, -1, 1);
        var mask = RandomMask(u.Rng, B, T);
        var (adv, ret, mom) = (u.Poisoned(B, T), u.Poisoned(B, T), u.Poisoned(3));
        be.GaeForward(adv, ret, mom, u.Upload(rewards, B, T), u.Upload(values, B, T), u.Upload(mask, B, T), B, T, 0.99f, 0.95f);

        var want = GaeReference.Run(Widen(rewards), Widen(values), Widen(mask), B, T, 0.99, 0.95);
        var gotAdv = u.Read(adv);
        KernelTestUtil.AssertClose(gotAdv, want.Advantages, 1e-5, 1e-5, "advantages");
        KernelTestUtil.AssertClose(u.Read(ret), want.Returns, 1e-5, 1e-5, "returns");
        var got = u.Read(mom);
        double absSum = want.Advantages.Sum(Math.Abs), sqSum = want.Advantages.Sum(a => a * a);
        Assert.That(got[0], Is.EqualTo(want.Moments[0]), "Σ mask");
        Assert.That(got[1], Is.EqualTo(want.Moments[1]).Within(1e-5 * (1 + absSum)), "Σ mask·A");
        Assert.That(got[2], Is.EqualTo(want.Moments[2]).Within(1e-5 * (1 + sqSum)), "Σ mask·A²");
    }

    /// <summary>Per row one of: all real, left padding, right padding, a hole mid-row, random holes, none real.</summary>
    private static float[] RandomMask(Random rng, int B, int T)
    {
        var mask = new float[B * T];
        for (int b = 0; b < B; b++)
        {
            int kind = b % 6, lo = rng.Next(T + 1), hi = rng.Next(lo, T + 1);
            for (int t = 0; t < T; t++)
                mask[b * T + t] = kind switch
                {
                    0 => 1,
                    1 => t >= lo ? 1 : 0,
                    2 => t < hi ? 1 : 0,
                    3 => t < lo || t >= hi ? 1 : 0,
                    4 => rng.Next(3) == 0 ? 0 : 1,
                    _ => 0,
                };
        }
        return mask;
    }

    [Test]
    public void MaskedNormalizeMatchesReference([Values(1, 7, 97, 1025, 1031)] int n)
    {
        var be = Backend;
        using var u = new KernelTestUtil(be, seed: n);
        var x = u.RandomFloats(n, -3, 3);
        var mask = u.RandomFloats(n, 0, 1).Select(v => v < 0.3f ? 0f : 1f).ToArray();
        var t = u.Upload(x);
        be.MaskedNormalize(t, u.Upload(mask), 0.25f, 1.7f, n);
        var got = u.Read(t);
        KernelTestUtil.AssertClose(got, GaeReference.MaskedNormalize(Widen(x), Widen(mask), 0.25, 1.7), 1e-6, 1e-6, "x");
        for (int i = 0; i < n; i++)
            if (mask[i] == 0) Assert.That(got[i], Is.EqualTo(0f), $"masked element {i}");
    }

    private static double[] Widen(float[] a) => a.Select(v => (double)v).ToArray();
}
