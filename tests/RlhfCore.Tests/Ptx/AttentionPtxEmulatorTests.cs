using RlhfCore.Backends.Cuda;
using RlhfCore.Tests.Reference;
using static RlhfCore.Tests.Ptx.PtxTestKit;

namespace RlhfCore.Tests.Ptx;

/// <summary>
/// kernels/ptx/attention_forward.ptx and attention_backward.ptx (head size 64, bf16 mma.sync) in the
/// emulator against <see cref="AttentionReference"/>, launched as Backends/Cuda/Attention.cs launches them:
/// its parameter structs, grid (ceil(T/64), NH, B) × 128 threads, and for D one warp per row (256-thread
/// CTAs). Padding masks: all visible, right padding, left padding with holes (rows that see no key).
/// </summary>
/// <remarks>
/// Tolerances, element by element, from the rounding the kernels do. They round Q, K, V and dO to bf16 (8
/// significant bits, unit roundoff u = 2^-8) when staging them, so the reference runs on those same rounded
/// inputs. What remains is the rounding to bf16 of the second tensor-core product's left operand — the
/// probabilities P (forward, and dV in backward) and dZ = P∘(dP − D) (dQ and dK) — and, in backward, that
/// D = Σ_i dO_i·O_i is taken from the f32 dO and the kernel's own output while dP uses bf16 dO. With every
/// P_ts off by at most u relatively:
///   out_ti:  2u·Σ_s P_ts·|v_si|                      (numerator and normalizer)
///   dv_si:   u·Σ_t P_ts·|dO_ti|
///   dZ_ts:   E_ts = u·|dZ_ts| + u·P_ts·Σ_i |dO_ti|·(|v_si| + |O_ti|)
///   dq_ti:   scale·Σ_s E_ts·|k_si|,   dk_si: scale·Σ_t E_ts·|q_ti|
/// The test allows twice each bound plus 1e-6 (the f32 accumulation and the approximate exponentials, ~1e-7
/// relative). The log-sum-exp comes from f32 scores of the bf16 inputs: 1e-4 absolute.
/// </remarks>
[TestFixture]
public sealed class AttentionPtxEmulatorTests
{
    private const int HeadSize = 64;
    private const double U = 1.0 / 256;   // bf16 unit roundoff, 2^-8

    [TestCase(1, 1, 1, true)]
    [TestCase(2, 1, 7, true)]
    [TestCase(3, 2, 33, true)]
    [TestCase(1, 1, 64, true)]    // exactly one full tile: no rows past T
    [TestCase(1, 1, 70, true)]    // two query tiles: the off-diagonal tile and the K/V prefetch
    [TestCase(1, 2, 19, false)]   // no key mask (a null pointer in the forward, all ones in backward)
    public void ForwardAndBackwardMatchReference(int B, int NH, int T, bool masked) => Assert.That(Check(B, NH, T, masked), Is.Null);

    /// <summary>Runs forward then backward on random inputs; the first disagreement with the reference, or null.</summary>
    internal static string? Check(int B, int NH, int T, bool masked)
    {
        int C = NH * HeadSize;
        var rng = new Random(1000 * B + 100 * NH + T);
        var qkv = Uniform(rng, (long)B * T * 3 * C, -1.5, 1.5);
        var dout = Uniform(rng, (long)B * T * C, -1, 1);
        var mask = masked ? MakeMask(rng, B, T) : Enumerable.Repeat(1, B * T).ToArray();
        var run = Emulate(qkv, dout, masked ? mask : null, B, T, C, NH);

        double[] q = Bf16(qkv), g = Bf16(dout);
        var (refOut, att) = AttentionReference.Forward(q, mask, B, T, C, NH);
        var refLse = Lse(q, mask, B, T, C, NH);
        var refD = AttentionReference.Backward(g, q, att, B, T, C, NH);
        var (outBound, dBound) = ErrorBounds(q, g, att, refOut, B, T, C, NH);
        return First(
            () => Within(run.Out, refOut, outBound, "out"),
            () => run.Out2.SequenceEqual(run.Out) ? null : "out2 (the copy for backward) must equal out bit for bit",
            () => Enumerable.Range(0, refLse.Length).Select(i => LseMismatch(run.Lse[i], refLse[i], i)).FirstOrDefault(m => m != null),
            () => Within(run.Dqkv, refD, dBound, "dqkv"));
    }

    private static string? LseMismatch(float got, double want, int i) =>
        double.IsNegativeInfinity(want)
            ? (float.IsNegativeInfinity(got) ? null : $"lse[{i}] is {got}; a row that sees no key has -inf")
            : Math.Abs(got - want) <= 1e-4 ? null : $"lse[{i}] is {got}, reference {want} (tol 1e-4)";

    /// <summary>The first element with |got − want| &gt; 2·bound + 1e-6 (NaN included), or null.</summary>
    private static string? Within(float[] got, double[] want, double[] bound, string what)
    {
        if (got.Length != want.Length) return $"{what}: {got.Length} elements, reference {want.Length}";
        for (int i = 0; i < got.Length; i++)
        {
            double err = Math.Abs(got[i] - want[i]), tol = 2 * bound[i] + 1e-6;
            if (!(err <= tol)) return $"{what}[{i}] is {got[i]}, reference {want[i]} (|err| {err:g3} > tol {tol:g3})";
        }
        return null;
    }

    /// <summary>The per-element rounding bounds of the remarks, for out [B,T,C] and dqkv [B,T,3C].</summary>
    private static (double[] Out, double[] Dqkv) ErrorBounds(double[] qkv, double[] dout, double[] att, double[] output, int B, int T, int C, int NH)
    {
        double scale = 1.0 / Math.Sqrt(HeadSize);
        var ob = new double[B * T * C];
        var db = new double[B * T * 3 * C];
        int At(int b, int t, int part, int h, int i) => (b * T + t) * 3 * C + part * C + h * HeadSize + i;
        int Row(int b, int t, int h, int i) => (b * T + t) * C + h * HeadSize + i;
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                {
                    int row = ((b * NH + h) * T + t) * T;
                    double dd = 0;
                    for (int i = 0; i < HeadSize; i++) dd += dout[Row(b, t, h, i)] * output[Row(b, t, h, i)];
                    for (int s = 0; s <= t; s++)
                    {
                        double p = att[row + s];
                        if (p == 0) continue;
                        double dp = 0, mix = 0;
                        for (int i = 0; i < HeadSize; i++)
                        {
                            double g = dout[Row(b, t, h, i)];
                            dp += g * qkv[At(b, s, 2, h, i)];
                            mix += Math.Abs(g) * (Math.Abs(qkv[At(b, s, 2, h, i)]) + Math.Abs(output[Row(b, t, h, i)]));
                            ob[Row(b, t, h, i)] += 2 * U * p * Math.Abs(qkv[At(b, s, 2, h, i)]);
                            db[At(b, s, 2, h, i)] += U * p * Math.Abs(g);
                        }
                        double e = U * Math.Abs(p * (dp - dd)) + U * p * mix;
                        for (int i = 0; i < HeadSize; i++)
                        {
                            db[At(b, t, 0, h, i)] += scale * e * Math.Abs(qkv[At(b, s, 1, h, i)]);
                            db[At(b, s, 1, h, i)] += scale * e * Math.Abs(qkv[At(b, t, 0, h, i)]);
                        }
                    }
                }
        return (ob, db);
    }

    private sealed record Outputs(float[] Out, float[] Out2, float[] Lse, float[] Dqkv);

    /// <summary>The launch sequence of CudaBackend.AttentionForward and AttentionBackward, on emulated memory.</summary>
    private static Outputs Emulate(float[] qkv, float[] dout, int[]? mask, int B, int T, int C, int NH)
    {
        var mem = new PtxMemory();
        ulong pQkv = mem.Upload<float>(qkv), pDout = mem.Upload<float>(dout);
        ulong pMask = mask == null ? 0 : mem.Upload<int>(mask);
        ulong pOut = Poisoned(mem, (long)B * T * C), pOut2 = Poisoned(mem, (long)B * T * C), pLse = Poisoned(mem, (long)B * NH * T);
        ulong pD = Poisoned(mem, (long)B * NH * T), pDqkv = Poisoned(mem, (long)B * T * 3 * C);
        // Attention.cs: AttentionScale = 1/sqrt(64); the backward reads the mask copy (all ones without a
        // mask) when T >= 2, and no mask at T = 1
        float scale = 1f / MathF.Sqrt(HeadSize), scaleLog2 = scale * 1.4426950408889634f;
        ulong bwdMask = T < 2 ? 0 : pMask != 0 ? pMask : mem.Upload<int>(Enumerable.Repeat(1, B * T).ToArray());
        var grid = ((T + 63) / 64, NH, B);

        PtxEmulator.Launch(Shipped("attention_forward.ptx", "attention_forward"), mem, PtxEmulator.Params(new AttentionForwardParams
        {
            Qkv = (nint)pQkv, Out = (nint)pOut, Out2 = (nint)pOut2, Lse = (nint)pLse, Mask = (nint)pMask,
            T = T, C = C, NH = NH, ScaleLog2 = scaleLog2,
        }), grid, (128, 1, 1));
        long rows = (long)B * NH * T;
        PtxEmulator.Launch(Shipped("attention_backward.ptx", "attention_backward_dot"), mem, PtxEmulator.Params(new AttentionDotParams
        {
            O = (nint)pOut2, Dout = (nint)pDout, D = (nint)pD, T = T, C = C, NH = NH, Ldo = C, BT = B * T,
        }), ((int)((rows + 7) / 8), 1, 1), (256, 1, 1));
        var p = PtxEmulator.Params(new AttentionBackwardParams
        {
            Qkv = (nint)pQkv, Dout = (nint)pDout, Dqkv = (nint)pDqkv, Lse = (nint)pLse, D = (nint)pD, Mask = (nint)bwdMask,
            T = T, C = C, NH = NH, ScaleLog2 = scaleLog2, Scale = scale,
        });
        PtxEmulator.Launch(Shipped("attention_backward.ptx", "attention_backward_dkdv"), mem, p, grid, (128, 1, 1));
        PtxEmulator.Launch(Shipped("attention_backward.ptx", "attention_backward_dq"), mem, p, grid, (128, 1, 1));
        return new Outputs(mem.Download<float>(pOut, (long)B * T * C), mem.Download<float>(pOut2, (long)B * T * C),
            mem.Download<float>(pLse, rows), mem.Download<float>(pDqkv, (long)B * T * 3 * C));
    }

    /// <summary>Batch b: all visible (b % 3 == 0), right padding (1), left padding with random holes (2).</summary>
    private static int[] MakeMask(Random rng, int B, int T)
    {
        var m = Enumerable.Repeat(1, B * T).ToArray();
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
            {
                bool off = (b % 3) switch
                {
                    1 => T > 2 && t >= T - Math.Max(1, T / 4),
                    2 => T > 2 && (t < Math.Max(1, T / 5) || rng.NextDouble() < 0.1),
                    _ => false,
                };
                if (off) m[b * T + t] = 0;
            }
        return m;
    }

    /// <summary>The values the kernel computes with: each float rounded to bf16 (nearest even).</summary>
    private static double[] Bf16(float[] x) => x.Select(v => (double)PtxFloat.FromBf16(PtxFloat.ToBf16(v))).ToArray();

    /// <summary>float64 natural log-sum-exp of each row's scaled visible scores, −inf for a row that sees no key.</summary>
    private static double[] Lse(double[] qkv, int[] mask, int B, int T, int C, int NH)
    {
        var lse = new double[B * NH * T];
        double scale = 1.0 / Math.Sqrt(HeadSize);
        for (int b = 0; b < B; b++)
            for (int h = 0; h < NH; h++)
                for (int t = 0; t < T; t++)
                {
                    var s = new List<double>();
                    for (int k = 0; k <= t; k++)
                    {
                        if (mask[b * T + k] == 0) continue;
                        double d = 0;
                        for (int i = 0; i < HeadSize; i++)
                            d += qkv[(b * T + t) * 3 * C + h * HeadSize + i] * qkv[(b * T + k) * 3 * C + C + h * HeadSize + i];
                        s.Add(d * scale);
                    }
                    double m = s.Count == 0 ? 0 : s.Max();
                    lse[(b * NH + h) * T + t] = s.Count == 0 ? double.NegativeInfinity : m + Math.Log(s.Sum(x => Math.Exp(x - m)));
                }
        return lse;
    }
}
