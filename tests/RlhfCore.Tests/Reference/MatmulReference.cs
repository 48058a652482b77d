namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 matmul with bias, forward and backward, straight from the definitions:
/// out = inp · Wᵀ + b; dinp = dout · W; dweight += doutᵀ · inp; dbias += Σₙ dout.
/// </summary>
public static class MatmulReference
{
    /// <summary>out[N, OC] = inp[N, C] · weight[OC, C]ᵀ + bias[OC] (bias may be null).</summary>
    public static double[] Forward(float[] inp, float[] weight, float[]? bias, int N, int C, int OC)
    {
        var output = new double[(long)N * OC];
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++)
            {
                double s = bias?[o] ?? 0.0;
                for (int c = 0; c < C; c++) s += (double)inp[n * C + c] * weight[o * C + c];
                output[(long)n * OC + o] = s;
            }
        return output;
    }

    /// <summary>dinp[N, C] = dout · weight, plus <paramref name="dinpBefore"/> when it is given (accumulation).</summary>
    public static double[] Dinp(float[] dout, float[] weight, float[]? dinpBefore, int N, int C, int OC)
    {
        var dinp = new double[(long)N * C];
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
            {
                double s = dinpBefore?[n * C + c] ?? 0.0;
                for (int o = 0; o < OC; o++) s += (double)dout[n * OC + o] * weight[o * C + c];
                dinp[(long)n * C + c] = s;
            }
        return dinp;
    }

    /// <summary>dweight[OC, C] = dweightBefore + doutᵀ · inp.</summary>
    public static double[] Dweight(float[] dout, float[] inp, float[] dweightBefore, int N, int C, int OC)
    {
        var dweight = new double[(long)OC * C];
        for (int o = 0; o < OC; o++)
            for (int c = 0; c < C; c++)
            {
                double s = dweightBefore[o * C + c];
                for (int n = 0; n < N; n++) s += (double)dout[n * OC + o] * inp[n * C + c];
                dweight[(long)o * C + c] = s;
            }
        return dweight;
    }

    /// <summary>dbias[OC] = dbiasBefore + Σₙ dout[n, :].</summary>
    public static double[] Dbias(float[] dout, float[] dbiasBefore, int N, int OC)
    {
        var dbias = new double[OC];
        for (int o = 0; o < OC; o++)
        {
            double s = dbiasBefore[o];
            for (int n = 0; n < N; n++) s += dout[n * OC + o];
            dbias[o] = s;
        }
        return dbias;
    }
}
