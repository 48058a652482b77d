namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 GELU, tanh form (GPT-2), written with tanh and sech² as in the paper.</summary>
public static class GeluReference
{
    private static readonly double S = Math.Sqrt(2 / Math.PI);

    public static double[] Forward(double[] x) =>
        x.Select(v => 0.5 * v * (1 + Math.Tanh(S * (v + 0.044715 * v * v * v)))).ToArray();

    /// <summary>dinp = gelu'(x)·dout.</summary>
    public static double[] Backward(double[] x, double[] dout)
    {
        var dinp = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double v = x[i], u = S * (v + 0.044715 * v * v * v), t = Math.Tanh(u);
            double sech2 = 1 - t * t;
            dinp[i] = (0.5 * (1 + t) + 0.5 * v * sech2 * S * (1 + 3 * 0.044715 * v * v)) * dout[i];
        }
        return dinp;
    }
}
