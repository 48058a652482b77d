namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 residual add.</summary>
public static class ResidualReference
{
    public static double[] Forward(double[] a, double[] b) => a.Zip(b, (x, y) => x + y).ToArray();

    /// <summary>dinp += dout (in place).</summary>
    public static void Backward(double[] dinp, double[] dout)
    {
        for (int i = 0; i < dinp.Length; i++) dinp[i] += dout[i];
    }
}
