namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 DPO-family losses, written straight from the papers' formulas (TRL's conventions), with
/// their gradients with respect to the four log-probs derived by hand. Deliberately naive (no softplus
/// tricks), so they are only compared where exp does not overflow.
/// </summary>
public static class DpoReference
{
    /// <summary>h = (πc − refc) − (πr − refr).</summary>
    public static double Margin(double pc, double pr, double rc, double rr) => (pc - rc) - (pr - rr);

    private static double Sigma(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>−(1−ε)·log σ(βh) − ε·log σ(−βh).</summary>
    public static double Sigmoid(double beta, double eps, double pc, double pr, double rc, double rr)
    {
        double h = Margin(pc, pr, rc, rr);
        return -(1 - eps) * Math.Log(Sigma(beta * h)) - eps * Math.Log(Sigma(-beta * h));
    }

    /// <summary>(h − 1/(2β))².</summary>
    public static double Ipo(double beta, double pc, double pr, double rc, double rr)
    {
        double d = Margin(pc, pr, rc, rr) - 1 / (2 * beta);
        return d * d;
    }

    /// <summary>[∂/∂πc, ∂/∂πr, ∂/∂refc, ∂/∂refr] of <see cref="Sigmoid"/>: d log σ(x)/dx = 1 − σ(x).</summary>
    public static double[] SigmoidGrad(double beta, double eps, double pc, double pr, double rc, double rr)
    {
        double x = beta * Margin(pc, pr, rc, rr);
        double dh = -(1 - eps) * (1 - Sigma(x)) * beta + eps * (1 - Sigma(-x)) * beta;
        return [dh, -dh, -dh, dh];
    }

    /// <summary>[∂/∂πc, ∂/∂πr, ∂/∂refc, ∂/∂refr] of <see cref="Ipo"/>.</summary>
    public static double[] IpoGrad(double beta, double pc, double pr, double rc, double rr)
    {
        double dh = 2 * (Margin(pc, pr, rc, rr) - 1 / (2 * beta));
        return [dh, -dh, -dh, dh];
    }
}
