namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 KTO, ORPO and SimPO batch losses, straight from TRL's formulas (no log-sum tricks), the oracle for
/// the losses in RlhfCore.Rl.Preference; their gradients are checked by central differences of these.
/// </summary>
public static class PreferenceReference
{
    private static double Sigma(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>KTO: mean of λ_D(1 − σ(β(r − z₀))) and λ_U(1 − σ(β(z₀ − r))), z₀ = max(0, mean KL-pair log-ratio).</summary>
    public static double Kto(double[] pi, double[] reference, bool[] desirable, double[] piKl, double[] refKl, double beta, double wd, double wu)
    {
        double z0 = piKl.Length == 0 ? 0 : Math.Max(0, piKl.Zip(refKl, (a, b) => a - b).Average());
        double sum = 0;
        for (int i = 0; i < pi.Length; i++)
        {
            double r = pi[i] - reference[i];
            sum += desirable[i] ? wd * (1 - Sigma(beta * (r - z0))) : wu * (1 - Sigma(beta * (z0 - r)));
        }
        return sum / pi.Length;
    }

    /// <summary>ORPO: −ΣSᶜ/ΣLᶜ − λ·mean log σ(log-odds of the mean log-probs).</summary>
    public static double Orpo(double[] c, double[] r, int[] lc, int[] lr, double lambda)
    {
        double nll = -c.Sum() / lc.Sum(), ratio = 0;
        for (int i = 0; i < c.Length; i++)
        {
            double ac = c[i] / lc[i], ar = r[i] / lr[i];
            double logOdds = (ac - ar) - (Math.Log(1 - Math.Exp(ac)) - Math.Log(1 - Math.Exp(ar)));
            ratio += Math.Log(Sigma(logOdds));
        }
        return nll - lambda * ratio / c.Length;
    }

    /// <summary>SimPO: mean of −(1−ε) log σ(β(aᶜ − aʳ) − γ) − ε log σ(−(β(aᶜ − aʳ) − γ)).</summary>
    public static double Simpo(double[] c, double[] r, int[] lc, int[] lr, double beta, double gamma, double eps)
    {
        double sum = 0;
        for (int i = 0; i < c.Length; i++)
        {
            double x = beta * (c[i] / lc[i] - r[i] / lr[i]) - gamma;
            sum += -(1 - eps) * Math.Log(Sigma(x)) - eps * Math.Log(Sigma(-x));
        }
        return sum / c.Length;
    }
}
