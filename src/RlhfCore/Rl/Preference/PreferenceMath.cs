namespace RlhfCore.Rl.Preference;

/// <summary>Numerically careful scalar functions the preference losses share, in double.</summary>
public static class PreferenceMath
{
    /// <summary>log σ(x) = −softplus(−x), without overflow for large |x|.</summary>
    public static double LogSigmoid(double x) => -(Math.Max(-x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))));

    /// <summary>σ(x) = 1 / (1 + e⁻ˣ), without overflow.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    /// <summary>log(1 − eᵃ) for a &lt; 0 (Mächler's log1mexp: log(−expm1(a)) near 0, log1p(−eᵃ) below −ln 2).</summary>
    public static double Log1mExp(double a) => a > -Math.Log(2) ? Math.Log(-double.ExpM1(a)) : Math.Log(1 - Math.Exp(a));
}
