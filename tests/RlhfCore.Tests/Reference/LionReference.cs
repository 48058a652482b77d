namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 Lion step in the paper's order (Chen et al. 2023, Algorithm 2): decay, sign of the interpolation, then the momentum update.</summary>
public static class LionReference
{
    /// <summary>Updates param and m in place.</summary>
    public static void Update(double[] param, double[] grad, double[] m, double lr, double beta1, double beta2, double weightDecay, double gradScale)
    {
        for (int i = 0; i < param.Length; i++)
        {
            double g = gradScale * grad[i];
            double c = beta1 * m[i] + (1 - beta1) * g;
            param[i] *= 1 - lr * weightDecay;
            param[i] -= lr * Math.Sign(c);
            m[i] = beta2 * m[i] + (1 - beta2) * g;
        }
    }
}
