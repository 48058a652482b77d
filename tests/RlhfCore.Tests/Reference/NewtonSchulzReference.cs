namespace RlhfCore.Tests.Reference;

/// <summary>
/// Float64 Newton–Schulz in modded-nanogpt's form (normalize, transpose a tall matrix, 5 quintic steps on XXᵀ),
/// and the singular values of a matrix from the eigenvalues of its smaller Gram matrix (cyclic Jacobi).
/// </summary>
public static class NewtonSchulzReference
{
    /// <summary>The orthogonalization of row-major x [rows, cols].</summary>
    public static double[] Orthogonalize(double[] x, int rows, int cols, double a, double b, double c, int steps)
    {
        double norm = Math.Sqrt(x.Sum(v => v * v)) + 1e-7;
        bool tall = rows > cols;
        int r = tall ? cols : rows, k = tall ? rows : cols;
        var m = new double[r, k];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                if (tall) m[j, i] = x[i * cols + j] / norm; else m[i, j] = x[i * cols + j] / norm;
        for (int s = 0; s < steps; s++)
        {
            var g = new double[r, r];
            for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) { double t = 0; for (int q = 0; q < k; q++) t += m[i, q] * m[j, q]; g[i, j] = t; }
            var poly = new double[r, r];
            for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) { double t = 0; for (int q = 0; q < r; q++) t += g[i, q] * g[q, j]; poly[i, j] = b * g[i, j] + c * t; }
            var next = new double[r, k];
            for (int i = 0; i < r; i++) for (int j = 0; j < k; j++) { double t = 0; for (int q = 0; q < r; q++) t += poly[i, q] * m[q, j]; next[i, j] = a * m[i, j] + t; }
            m = next;
        }
        var result = new double[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                result[i * cols + j] = tall ? m[j, i] : m[i, j];
        return result;
    }

    /// <summary>The min(rows, cols) singular values of row-major x [rows, cols], ascending.</summary>
    public static double[] SingularValues(double[] x, int rows, int cols)
    {
        bool tall = rows > cols;
        int r = Math.Min(rows, cols), k = Math.Max(rows, cols);
        double At(int i, int q) => tall ? x[q * cols + i] : x[i * cols + q];
        var g = new double[r, r];
        for (int i = 0; i < r; i++) for (int j = 0; j < r; j++) { double t = 0; for (int q = 0; q < k; q++) t += At(i, q) * At(j, q); g[i, j] = t; }
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < r; p++) for (int q = p + 1; q < r; q++) off += g[p, q] * g[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < r; p++)
                for (int q = p + 1; q < r; q++)
                {
                    if (Math.Abs(g[p, q]) < 1e-300) continue;
                    double theta = (g[q, q] - g[p, p]) / (2 * g[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double cs = 1 / Math.Sqrt(t * t + 1), sn = t * cs;
                    for (int i = 0; i < r; i++)
                    {
                        double gip = g[i, p], giq = g[i, q];
                        g[i, p] = cs * gip - sn * giq; g[i, q] = sn * gip + cs * giq;
                    }
                    for (int i = 0; i < r; i++)
                    {
                        double gpi = g[p, i], gqi = g[q, i];
                        g[p, i] = cs * gpi - sn * gqi; g[q, i] = sn * gpi + cs * gqi;
                    }
                }
        }
        return [.. Enumerable.Range(0, r).Select(i => Math.Sqrt(Math.Max(0, g[i, i]))).Order()];
    }
}
