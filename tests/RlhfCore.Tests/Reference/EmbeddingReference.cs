namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 token + position embedding.</summary>
public static class EmbeddingReference
{
    /// <summary>out[n, :] = wte[tokens[n], :] + wpe[positions[n], :].</summary>
    public static double[] Forward(int[] tokens, int[] positions, double[] wte, double[] wpe, int N, int C)
    {
        var output = new double[N * C];
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                output[n * C + c] = wte[tokens[n] * C + c] + wpe[positions[n] * C + c];
        return output;
    }

    /// <summary>dwte[tokens[n], :] += dout[n, :]; dwpe[positions[n], :] += dout[n, :] (in place).</summary>
    public static void Backward(double[] dwte, double[] dwpe, double[] dout, int[] tokens, int[] positions, int N, int C)
    {
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
            {
                dwte[tokens[n] * C + c] += dout[n * C + c];
                dwpe[positions[n] * C + c] += dout[n * C + c];
            }
    }
}
