namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 sum of squares and scaling.</summary>
public static class GradNormReference
{
    public static double SumOfSquares(double[] x) => x.Sum(v => v * v);

    public static double[] Scale(double[] x, double scale) => x.Select(v => v * scale).ToArray();
}
