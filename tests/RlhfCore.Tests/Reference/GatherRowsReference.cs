namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 row gather.</summary>
public static class GatherRowsReference
{
    /// <summary>out[m, :] = inp[rows[m], :].</summary>
    public static double[] Forward(double[] inp, int[] rows, int M, int C)
    {
        var output = new double[M * C];
        for (int m = 0; m < M; m++)
            for (int c = 0; c < C; c++) output[m * C + c] = inp[rows[m] * C + c];
        return output;
    }

    /// <summary>dinp[rows[m], :] += dout[m, :] (in place).</summary>
    public static void Backward(double[] dinp, double[] dout, int[] rows, int M, int C)
    {
        for (int m = 0; m < M; m++)
            for (int c = 0; c < C; c++) dinp[rows[m] * C + c] += dout[m * C + c];
    }
}
