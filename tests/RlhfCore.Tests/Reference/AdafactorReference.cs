namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 Adafactor step in Hugging Face's order (transformers.optimization.Adafactor.step): second moments
/// (factored as row and column means of g² + ε1 when <c>col</c> is given), u = g/√v̂, clipping by RMS(u)/d, the rate
/// scaled by max(ε2, RMS(param)) when asked, the first moment over α·u, decoupled decay, then the step.
/// </summary>
public static class AdafactorReference
{
    /// <summary>Updates param, row (or the full v when <paramref name="col"/> is null), col and m (when β1 &gt; 0) in place.</summary>
    public static void Update(double[] param, double[] grad, double[] row, double[]? col, double[]? m, int rows, int cols, double lr, double beta1, double beta2,
        double eps1, double eps2, double clipThreshold, double weightDecay, double gradScale, bool scaleParameter)
    {
        int n = param.Length;
        var g = grad.Select(x => gradScale * x).ToArray();
        var vHat = new double[n];
        if (col != null)
        {
            for (int i = 0; i < rows; i++)
                row[i] = beta2 * row[i] + (1 - beta2) * Enumerable.Range(0, cols).Average(j => g[i * cols + j] * g[i * cols + j] + eps1);
            for (int j = 0; j < cols; j++)
                col[j] = beta2 * col[j] + (1 - beta2) * Enumerable.Range(0, rows).Average(i => g[i * cols + j] * g[i * cols + j] + eps1);
            double meanRow = row.Average();
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < cols; j++) vHat[i * cols + j] = row[i] * col[j] / meanRow;
        }
        else
        {
            for (int k = 0; k < n; k++) vHat[k] = row[k] = beta2 * row[k] + (1 - beta2) * (g[k] * g[k] + eps1);
        }
        var u = g.Select((x, k) => x / Math.Sqrt(vHat[k])).ToArray();
        double rmsU = Math.Sqrt(u.Average(x => x * x));
        double clip = Math.Max(1, rmsU / clipThreshold);
        double alpha = scaleParameter ? lr * Math.Max(eps2, Math.Sqrt(param.Average(p => p * p))) : lr;
        for (int k = 0; k < n; k++)
        {
            double step = alpha * u[k] / clip;
            if (beta1 > 0) step = m![k] = beta1 * m[k] + (1 - beta1) * step;
            param[k] -= alpha * weightDecay * param[k];
            param[k] -= step;
        }
    }
}
