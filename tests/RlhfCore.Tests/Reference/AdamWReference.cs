namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 AdamW step written in PyTorch's order (decoupled decay first, then the Adam step with
/// step size lr/(1 − β1ᵗ) and denominator √v/√(1 − β2ᵗ) + eps), so it also checks that the kernel's
/// single-expression form is the same update.
/// </summary>
public static class AdamWReference
{
    /// <summary>Updates param, m, v in place.</summary>
    public static void Update(double[] param, double[] grad, double[] m, double[] v, double lr, double beta1, double beta2,
        double eps, double weightDecay, double gradScale, int step)
    {
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        for (int i = 0; i < param.Length; i++)
        {
            double g = gradScale * grad[i];
            param[i] *= 1 - lr * weightDecay;
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            param[i] -= lr / bc1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(bc2) + eps);
        }
    }
}
