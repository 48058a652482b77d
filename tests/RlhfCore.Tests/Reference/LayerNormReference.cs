namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 LayerNorm (eps 1e-5), gradients derived directly from the definition.</summary>
public static class LayerNormReference
{
    public const double Eps = 1e-5;

    /// <summary>Returns (out [N, C], mean [N], rstd [N]).</summary>
    public static (double[] Output, double[] Mean, double[] Rstd) Forward(double[] inp, double[] weight, double[] bias, int N, int C)
    {
        var output = new double[N * C];
        var mean = new double[N];
        var rstd = new double[N];
        for (int n = 0; n < N; n++)
        {
            double m = 0;
            for (int c = 0; c < C; c++) m += inp[n * C + c];
            m /= C;
            double v = 0;
            for (int c = 0; c < C; c++) v += (inp[n * C + c] - m) * (inp[n * C + c] - m);
            v /= C;
            double r = 1 / Math.Sqrt(v + Eps);
            for (int c = 0; c < C; c++) output[n * C + c] = (inp[n * C + c] - m) * r * weight[c] + bias[c];
            mean[n] = m;
            rstd[n] = r;
        }
        return (output, mean, rstd);
    }

    /// <summary>
    /// dinp += , dweight += , dbias += (in place). Uses the full Jacobian of x̂ = (x − μ)·rstd with respect to
    /// x, ∂x̂ᵢ/∂xⱼ = rstd·(δᵢⱼ − 1/C − x̂ᵢx̂ⱼ/C), an O(C²) form independent of the kernel's formulation.
    /// </summary>
    public static void Backward(double[] dinp, double[] dweight, double[] dbias, double[] dout, double[] inp, double[] weight, int N, int C)
    {
        var (_, mean, rstd) = Forward(inp, weight, new double[C], N, C);
        var norm = new double[C];
        for (int n = 0; n < N; n++)
        {
            for (int c = 0; c < C; c++) norm[c] = (inp[n * C + c] - mean[n]) * rstd[n];
            for (int c = 0; c < C; c++)
            {
                dbias[c] += dout[n * C + c];
                dweight[c] += norm[c] * dout[n * C + c];
            }
            for (int j = 0; j < C; j++)
            {
                double g = 0;
                for (int i = 0; i < C; i++)
                    g += dout[n * C + i] * weight[i] * rstd[n] * ((i == j ? 1.0 : 0.0) - 1.0 / C - norm[i] * norm[j] / C);
                dinp[n * C + j] += g;
            }
        }
    }
}
