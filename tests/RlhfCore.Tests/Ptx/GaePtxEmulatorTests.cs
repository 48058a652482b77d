using RlhfCore.Backends.Cuda;
using RlhfCore.Tests.Reference;
using static RlhfCore.Tests.Ptx.PtxTestKit;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// kernels/ptx/gae.ptx (gae_scan, gae_moments, masked_normalize) in the emulator against
/// <see cref="GaeReference"/>, launched as Backends/Cuda/Gae.cs launches them (its parameter structs,
/// grid and block). Both gae_scan paths run: the 4-positions-per-lane vector path (T % 4 == 0, 16-byte
/// aligned bases) and the scalar path (other T, or bases offset by 4 bytes). Tolerances are those of the
/// CPU kernel's tests (Kernels/GaeTests.cs): a float scan against float64, 1e-5 + 1e-5·|ref|.
/// </summary>
[TestFixture]
public sealed class GaePtxEmulatorTests
{
    private const float Gamma = 0.99f, Lambda = 0.95f;

    [TestCase(1, 1, false)]
    [TestCase(3, 7, false)]
    [TestCase(9, 33, false)]      // two CTAs, scalar path, a partial last chunk
    [TestCase(7, 128, false)]     // vector path, one whole chunk per row
    [TestCase(6, 100, false)]     // vector path, a partial chunk
    [TestCase(5, 132, false)]     // vector path, two chunks (the prefetch)
    [TestCase(7, 128, true)]      // bases 4 bytes off 16: the scalar path for a T the vector path could take
    public void GaeMatchesReference(int B, int T, bool misalign) => Assert.That(CheckGae(B, T, misalign, grid: null), Is.Null);

    /// <summary>Fewer CTAs than rows/8: the grid-stride loop over rows (the launcher does this past B = 8192).</summary>
    [Test]
    public void GaeGridStrideMatchesReference() => Assert.That(CheckGae(B: 13, T: 36, misalign: false, grid: 1), Is.Null);

    /// <summary>Runs gae_scan + gae_moments on random rows; the first disagreement with the reference, or null.</summary>
    internal static string? CheckGae(int B, int T, bool misalign, int? grid)
    {
        var rng = new Random(100 * B + T + (misalign ? 7 : 0));
        int n = B * T;
        var rewards = Uniform(rng, n, -1, 1);
        var values = Uniform(rng, n, -1, 1);
        var mask = RandomMask(rng, B, T);
        var mem = new PtxMemory();
        ulong shift = misalign ? 4UL : 0UL;
        ulong Buf(float[]? data)
        {
            var padded = new float[n + 4];
            Array.Fill(padded, float.NaN);
            data?.CopyTo(padded, (int)(shift / 4));
            return mem.Upload<float>(padded) + shift;
        }
        ulong adv = Buf(null), ret = Buf(null), rew = Buf(rewards), val = Buf(values), msk = Buf(mask);
        // Gae.cs: blocks = clamp(ceil(B/8), 1, GaeMaxBlocks = 1024), partials = 3 doubles per block
        int blocks = grid ?? Math.Clamp((B + 7) / 8, 1, 1024);
        ulong partials = mem.Upload<double>(Enumerable.Repeat(double.NaN, 3 * blocks).ToArray());
        ulong moments = Poisoned(mem, 3);
        PtxEmulator.Launch(Shipped("gae.ptx", "gae_scan"), mem, PtxEmulator.Params(new GaeParams
        {
            Advantages = (nint)adv, Returns = (nint)ret, Rewards = (nint)rew, Values = (nint)val, Mask = (nint)msk,
            Partials = (nint)partials, B = B, T = T, Gamma = Gamma, Lambda = Lambda,
        }), (blocks, 1, 1), (256, 1, 1));
        PtxEmulator.Launch(Shipped("gae.ptx", "gae_moments"), mem,
            PtxEmulator.Params(new GaeMomentsParams { Moments = (nint)moments, Partials = (nint)partials, Count = blocks }), (1, 1, 1), (32, 1, 1));

        var want = GaeReference.Run(Widen(rewards), Widen(values), Widen(mask), B, T, Gamma, Lambda);
        var gotAdv = mem.Download<float>(adv, n);
        var gotRet = mem.Download<float>(ret, n);
        var got = mem.Download<float>(moments, 3);
        double absSum = want.Advantages.Sum(Math.Abs), sqSum = want.Advantages.Sum(a => a * a);
        return First(
            () => Mismatch(gotAdv, want.Advantages, 1e-5, 1e-5, "advantages"),
            () => Mismatch(gotRet, want.Returns, 1e-5, 1e-5, "returns"),
            () => Enumerable.Range(0, n).Where(i => mask[i] == 0 && (gotAdv[i] != 0 || gotRet[i] != 0))
                .Select(i => $"masked position {i} has A = {gotAdv[i]}, R = {gotRet[i]}; must be exactly 0").FirstOrDefault(),
            () => got[0] == want.Moments[0] ? null : $"Σ mask is {got[0]}, reference {want.Moments[0]}",
            () => Mismatch([got[1]], [want.Moments[1]], 1e-5 * (1 + absSum), 0, "Σ mask·A"),
            () => Mismatch([got[2]], [want.Moments[2]], 1e-5 * (1 + sqSum), 0, "Σ mask·A²"));
    }

    [TestCase(1)]
    [TestCase(97)]
    [TestCase(1031)]   // five CTAs, the last one partial
    public void MaskedNormalizeMatchesReference(int n) => Assert.That(CheckMaskedNormalize(n), Is.Null);

    /// <summary>Runs masked_normalize on n random values; the first disagreement with the reference, or null.</summary>
    internal static string? CheckMaskedNormalize(int n)
    {
        var rng = new Random(n);
        var x = Uniform(rng, n, -3, 3);
        var mask = Uniform(rng, n, 0, 1).Select(v => v < 0.3f ? 0f : 1f).ToArray();
        var mem = new PtxMemory();
        ulong px = mem.Upload<float>(x), pm = mem.Upload<float>(mask);
        // Gae.cs: blocks = clamp(ceil(n/256), 0, 4096), 256 threads
        int blocks = (int)Math.Clamp((n + 255) / 256, 0, 4096);
        PtxEmulator.Launch(Shipped("gae.ptx", "masked_normalize"), mem,
            PtxEmulator.Params(new MaskedNormalizeParams { X = (nint)px, Mask = (nint)pm, N = n, Mean = 0.25f, Scale = 1.7f }), (blocks, 1, 1), (256, 1, 1));
        var got = mem.Download<float>(px, n);
        return First(
            () => Mismatch(got, GaeReference.MaskedNormalize(Widen(x), Widen(mask), 0.25, 1.7), 1e-6, 1e-6, "x"),
            () => Enumerable.Range(0, n).Where(i => mask[i] == 0 && got[i] != 0).Select(i => $"masked element {i} is {got[i]}, must be 0").FirstOrDefault());
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
}
