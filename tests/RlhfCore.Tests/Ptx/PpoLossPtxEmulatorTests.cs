using RlhfCore.Backends.Cuda;
using RlhfCore.Rl;
using RlhfCore.Tests.Reference;
using static RlhfCore.Tests.Ptx.PtxTestKit;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// kernels/ptx/ppo_loss.ptx in the emulator against <see cref="PpoLossReference"/>, launched as
/// Backends/Cuda/PpoLoss.cs launches it: its <see cref="PpoLossParams"/>, one CTA per row and
/// <see cref="CudaBackend.PpoLossThreads"/> threads. Odd V puts rows at every alignment mod 16, so the
/// scalar head, the float4 body and the scalar tail all run; one case updates dlogits in place.
/// Tolerances are the CPU kernel's (Kernels/PpoLossTests.cs): per-row outputs 2e-5 + 2e-5·|ref| (a float
/// log-sum-exp; ex2.approx is emulated exactly, its device error of ~1e-7 is far below), dlogits
/// 1e-5 + 1e-4·|ref|; the clipped flag exactly (ratios are kept 0.02 clear of the clip bounds).
/// </summary>
[TestFixture]
public sealed class PpoLossPtxEmulatorTests
{
    private const float ClipEps = 0.2f, EntropyCoef = 0.05f;

    [TestCase(3, 1, false)]
    [TestCase(5, 37, false)]       // 32 threads, fewer elements than lanes
    [TestCase(4, 1001, false)]     // 64 threads: two warps through shared memory
    [TestCase(2, 4099, false)]     // 256 threads (the cap): eight warps
    [TestCase(3, 203, true)]       // dlogits aliasing logits
    public void MatchesReference(int N, int V, bool inPlace) => Assert.That(Check(N, V, inPlace), Is.Null);

    /// <summary>
    /// DAPO's clip-higher (ε_low 0.2, ε_high 0.28) with the dual clip c = 3: ratios below 1−ε_low, inside,
    /// between 1+ε_high and c, and above c, so every branch (flags 0, 1 and 2) is taken with either sign of A.
    /// </summary>
    [TestCase(9, 37, false)]
    [TestCase(8, 1001, false)]
    [TestCase(7, 203, true)]
    public void ClipHigherAndDualClipMatchReference(int N, int V, bool inPlace) =>
        Assert.That(Check(N, V, inPlace, new PolicyClip(0.2f, 0.28f, 3f)), Is.Null);

    /// <summary>
    /// The header's promise for a bad action (outside [0, V)): NaN loss and logp, and no read out of bounds —
    /// the emulator bounds-checks every access, so an out-of-row read would fail the launch.
    /// </summary>
    [TestCase(37, 37)]
    [TestCase(37, -1)]
    [TestCase(1001, 5000)]
    public void ActionOutsideTheVocabularyGivesNaNWithoutReadingOutOfBounds(int V, int action)
    {
        var rng = new Random(V);
        var mem = new PtxMemory();
        ulong pLoss = Poisoned(mem, 1), pLogp = Poisoned(mem, 1);
        var p = new PpoLossParams
        {
            DLogits = (nint)Poisoned(mem, V), Losses = (nint)pLoss, Logp = (nint)pLogp, Entropy = (nint)Poisoned(mem, 1),
            Clipped = (nint)Poisoned(mem, 1), Logits = (nint)mem.Upload<float>(Uniform(rng, V, -3, 3)), Actions = (nint)mem.Upload<int>([action]),
            OldLogp = (nint)mem.Upload<float>([-3f]), Advantages = (nint)mem.Upload<float>([0.5f]), Weights = (nint)mem.Upload<float>([1f]),
            N = 1, V = V, ClipLow = ClipEps, ClipHigh = ClipEps, EntropyCoef = EntropyCoef,
        };
        PtxEmulator.Launch(Shipped("ppo_loss.ptx", "ppo_loss"), mem, PtxEmulator.Params(p), (1, 1, 1), (CudaBackend.PpoLossThreads(V), 1, 1));
        Assert.That(mem.Download<float>(pLogp, 1)[0], Is.NaN, "logp");
        Assert.That(mem.Download<float>(pLoss, 1)[0], Is.NaN, "loss");
    }

    /// <summary>Runs ppo_loss on random rows; the first disagreement with the reference, or null.</summary>
    internal static string? Check(int N, int V, bool inPlace, PolicyClip? clipOrSymmetric = null)
    {
        var clip = clipOrSymmetric ?? PolicyClip.Symmetric(ClipEps);
        // ratio bands 0.02 clear of every bound: below 1−ε_low, inside, above 1+ε_high (and above c with the dual clip)
        double[] bands = clip.Dual > 0 ? [0.7, 1.05, 1.5, 3.3] : [0.7, 1.05, 1.3];
        var rng = new Random(1000 * N + V);
        var logits = Uniform(rng, (long)N * V, -3, 3);
        var actions = Enumerable.Range(0, N).Select(_ => rng.Next(V)).ToArray();
        var old = new float[N];
        var adv = new float[N];
        var w = new float[N];
        for (int n = 0; n < N; n++)
        {
            double lp = PpoLossReference.LogSoftmax(Widen(logits[(n * V)..((n + 1) * V)]))[actions[n]];
            // ratio below 1-eps, inside, or above 1+eps, 0.02 clear of the bounds; row 0 weighs 0
            double ratio = bands[n % bands.Length] + 0.05 * rng.NextDouble();
            old[n] = (float)(lp - Math.Log(ratio));
            int sign = rng.Next(2) == 0 ? -1 : 1;
            if (clip.Dual > 0) sign = n / bands.Length % 2 == 0 ? -1 : 1; // each band with A < 0 first, then A > 0
            adv[n] = (float)(sign * (0.1 + 1.9 * rng.NextDouble()));
            w[n] = n == 0 ? 0f : (float)(0.05 + 0.95 * rng.NextDouble());
        }
        var mem = new PtxMemory();
        ulong pLogits = mem.Upload<float>(logits);
        ulong pDl = inPlace ? pLogits : Poisoned(mem, (long)N * V);
        ulong pLoss = Poisoned(mem, N), pLogp = Poisoned(mem, N), pEnt = Poisoned(mem, N), pClip = Poisoned(mem, N);
        var p = new PpoLossParams
        {
            DLogits = (nint)pDl, Losses = (nint)pLoss, Logp = (nint)pLogp, Entropy = (nint)pEnt, Clipped = (nint)pClip,
            Logits = (nint)pLogits, Actions = (nint)mem.Upload<int>(actions), OldLogp = (nint)mem.Upload<float>(old),
            Advantages = (nint)mem.Upload<float>(adv), Weights = (nint)mem.Upload<float>(w),
            N = N, V = V, ClipLow = clip.Low, ClipHigh = clip.High, DualClip = clip.Dual, EntropyCoef = EntropyCoef,
        };
        PtxEmulator.Launch(Shipped("ppo_loss.ptx", "ppo_loss"), mem, PtxEmulator.Params(p), (N, 1, 1), (CudaBackend.PpoLossThreads(V), 1, 1));

        var want = PpoLossReference.Run(Widen(logits), actions, Widen(old), Widen(adv), Widen(w), N, V, clip.Low, clip.High, clip.Dual, EntropyCoef);
        var dl = mem.Download<float>(pDl, (long)N * V);
        var clipped = mem.Download<float>(pClip, N);
        if (clip.Dual > 0 && !(clipped.Contains(1f) && clipped.Contains(2f))) return "the rows must take the ratio clip and the dual clip";
        return First(
            () => Mismatch(mem.Download<float>(pLogp, N), want.Logp, 2e-5, 2e-5, "logp"),
            () => Mismatch(mem.Download<float>(pEnt, N), want.Entropy, 2e-5, 2e-5, "entropy"),
            () => Mismatch(mem.Download<float>(pLoss, N), want.Losses, 2e-5, 2e-5, "losses"),
            () => Mismatch(clipped, want.Clipped, 0, 0, "clipped"),
            () => Mismatch(dl, want.DLogits, 1e-5, 1e-4, "dlogits"),
            () => dl[..V].All(v => v == 0) ? null : "a row of weight 0 must have an exactly zero gradient");
    }
}
