namespace RlhfCore.Tests.Ptx;

/// <summary>
/// Floating-point rules of the PTX ISA that differ from C#'s: flush-to-zero, bf16 rounding, min/max with
/// NaN, and the approximate transcendentals.
/// </summary>
/// <remarks>
/// ex2/lg2/rcp.approx are emulated as the correctly rounded float of the exact function (computed in
/// double). The hardware's are within 2 ulp of that (ISA: ex2.approx.ftz.f32 max relative error 2^-22.5,
/// lg2.approx.ftz.f32 max absolute error 2^-22.6 near 1, rcp.approx.ftz.f32 max 1 ulp), i.e. about 1e-7
/// relative: three orders of magnitude below the tightest tolerance these tests use (GAE, 1e-5).
/// </remarks>
public static class PtxFloat
{
    /// <summary>A subnormal becomes a zero of the same sign (the .ftz rule), anything else is unchanged.</summary>
    public static float Ftz(float x) => float.IsSubnormal(x) ? (float.IsNegative(x) ? -0f : 0f) : x;

    /// <summary>fp32 → bf16 bits, round to nearest even (cvt.rn.bf16x2.f32); NaN becomes the canonical 0x7FFF.</summary>
    public static ushort ToBf16(float x)
    {
        if (float.IsNaN(x)) return 0x7FFF;
        uint b = BitConverter.SingleToUInt32Bits(x);
        return (ushort)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
    }

    /// <summary>bf16 bits → fp32 (exact).</summary>
    public static float FromBf16(uint h) => BitConverter.UInt32BitsToSingle((h & 0xFFFF) << 16);

    /// <summary>max.f32: a NaN operand yields the other one (NaN only if both are); +0 is above −0.</summary>
    public static float Max(float a, float b) =>
        float.IsNaN(a) ? b : float.IsNaN(b) ? a : a == b ? (float.IsNegative(a) ? b : a) : Math.Max(a, b);

    /// <summary>min.f32: a NaN operand yields the other one (NaN only if both are); −0 is below +0.</summary>
    public static float Min(float a, float b) =>
        float.IsNaN(a) ? b : float.IsNaN(b) ? a : a == b ? (float.IsNegative(a) ? a : b) : Math.Min(a, b);

    /// <summary>max.f64 (same NaN rule).</summary>
    public static double Max(double a, double b) =>
        double.IsNaN(a) ? b : double.IsNaN(b) ? a : a == b ? (double.IsNegative(a) ? b : a) : Math.Max(a, b);

    /// <summary>min.f64 (same NaN rule).</summary>
    public static double Min(double a, double b) =>
        double.IsNaN(a) ? b : double.IsNaN(b) ? a : a == b ? (double.IsNegative(a) ? a : b) : Math.Min(a, b);

    /// <summary>ex2.approx.f32 (see the remarks for why the exact value stands in).</summary>
    public static float Ex2(float x) => (float)Math.Pow(2.0, x);

    /// <summary>lg2.approx.f32: log2; 0 → −inf, negative → NaN.</summary>
    public static float Lg2(float x) => (float)Math.Log2(x);

    /// <summary>rcp.approx.f32.</summary>
    public static float Rcp(float x) => (float)(1.0 / x);

    /// <summary>Ordered comparison: false whenever an operand is NaN (setp.eq/ne/lt/le/gt/ge on floats).</summary>
    public static bool Compare(PtxCmp cmp, double a, double b) =>
        !double.IsNaN(a) && !double.IsNaN(b) && cmp switch
        {
            PtxCmp.Eq => a == b, PtxCmp.Ne => a != b, PtxCmp.Lt => a < b,
            PtxCmp.Le => a <= b, PtxCmp.Gt => a > b, _ => a >= b,
        };
}
