namespace RlhfCore.Training.Overopt;

/// <summary>The functional forms of Gao et al. (2022), "Scaling Laws for Reward Model Overoptimization", with d = √KL.</summary>
public enum GaoForm
{
    /// <summary>Best-of-n: R(d) = d(α − β·d).</summary>
    BestOfN,
    /// <summary>RL: R(d) = d(α − β·log d).</summary>
    Rl,
}

/// <summary>A fitted Gao curve: R(d) = R₀ + d(α − β·f(d)), f(d) = d (best-of-n) or log d (RL).</summary>
/// <param name="Form">Which form.</param>
/// <param name="Alpha">α.</param>
/// <param name="Beta">β (positive when the reward eventually falls: over-optimization).</param>
/// <param name="Intercept">R₀: 0 when the fit was made relative to a known baseline.</param>
/// <param name="Points">Points the fit used.</param>
/// <param name="Rmse">Root-mean-square residual of the fit.</param>
public sealed record GaoCurve(GaoForm Form, double Alpha, double Beta, double Intercept, int Points, double Rmse)
{
    /// <summary>R at d = √KL.</summary>
    public double At(double d) => d <= 0 ? Intercept : Intercept + d * (Alpha - Beta * F(Form, d));

    /// <summary>
    /// The d where R peaks, or NaN when it never turns (β ≤ 0). Best-of-n: α − 2βd = 0, d* = α/(2β).
    /// RL: α − β·log d − β = 0, d* = exp(α/β − 1).
    /// </summary>
    public double PeakD => !(Beta > 0) ? double.NaN : Form == GaoForm.BestOfN ? (Alpha > 0 ? Alpha / (2 * Beta) : 0) : Math.Exp(Alpha / Beta - 1);

    /// <summary>The KL at the peak (d*²).</summary>
    public double PeakKl => PeakD * PeakD;

    /// <summary>R at the peak.</summary>
    public double PeakReward => double.IsNaN(PeakD) ? double.NaN : At(PeakD);

    internal static double F(GaoForm form, double d) => form == GaoForm.BestOfN ? d : Math.Log(d);
}

/// <summary>
/// Least-squares fits of the Gao forms. Both are linear in their parameters — R = α·d − β·d·f(d) (+ R₀) —
/// so the fit is closed form: the normal equations of a 2- or 3-column design, solved by Gaussian
/// elimination with partial pivoting, in float64.
/// </summary>
public static class GaoFit
{
    /// <summary>
    /// Fits <paramref name="form"/> to points (d, R). With <paramref name="intercept"/> false the curve passes
    /// through (0, 0): pass rewards relative to the starting policy's, as Gao et al. do. Points with d ≤ 0 carry
    /// no information about α or β and are left out (they still count towards R₀ when it is fitted).
    /// </summary>
    public static GaoCurve Fit(GaoForm form, IReadOnlyList<(double D, double R)> points, bool intercept = false)
    {
        var usable = points.Where(p => double.IsFinite(p.D) && double.IsFinite(p.R) && p.D >= 0 && (intercept || p.D > 0)).ToList();
        int k = intercept ? 3 : 2;
        if (usable.Count(p => p.D > 0) < 2 || usable.Count < k)
            throw new ArgumentException($"a {form} fit needs at least {k} points with finite values (2 with d > 0); got {usable.Count}");
        var ata = new double[k, k];
        var atb = new double[k];
        foreach (var (d, r) in usable)
        {
            var row = Row(form, d, intercept);
            for (int i = 0; i < k; i++)
            {
                atb[i] += row[i] * r;
                for (int j = 0; j < k; j++) ata[i, j] += row[i] * row[j];
            }
        }
        var x = Solve(ata, atb);
        double alpha = x[0], beta = x[1], r0 = intercept ? x[2] : 0;
        var curve = new GaoCurve(form, alpha, beta, r0, usable.Count, 0);
        double sse = usable.Sum(p => (curve.At(p.D) - p.R) * (curve.At(p.D) - p.R));
        return curve with { Rmse = Math.Sqrt(sse / usable.Count) };
    }

    /// <summary>The design row: [d, −d·f(d)] (+ [1]); d·log d → 0 as d → 0.</summary>
    private static double[] Row(GaoForm form, double d, bool intercept)
    {
        double df = d > 0 ? d * GaoCurve.F(form, d) : 0;
        return intercept ? [d, -df, 1] : [d, -df];
    }

    private static double[] Solve(double[,] a, double[] b)
    {
        int n = b.Length;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            if (Math.Abs(a[pivot, c]) < 1e-300) throw new ArgumentException("the fit is degenerate: the points do not determine the curve (all at one d?)");
            for (int j = 0; j < n; j++) (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
            (b[c], b[pivot]) = (b[pivot], b[c]);
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int j = c; j < n; j++) a[r, j] -= f * a[c, j];
                b[r] -= f * b[c];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int j = r + 1; j < n; j++) s -= a[r, j] * x[j];
            x[r] = s / a[r, r];
        }
        return x;
    }
}
