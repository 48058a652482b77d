namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 ILQL loss (trlx's ILQLConfig.loss written out) from hidden states and linear head weights, the oracle for
/// RlhfCore.Rl.Ilql. The detached quantities of trlx — the min target Q at the action, the next state's V and the AWAC
/// weight — come in <see cref="Frozen"/>, computed once at the unperturbed point, so central differences of
/// <see cref="Loss"/> are the gradient trlx's autograd takes.
/// </summary>
public static class IlqlReference
{
    /// <summary>The inputs: h [N, C]; Q heads qW[i] [V, C], qB[i] [V]; targets tW/tB; V head vW [C], vB; LM logits [N, V].</summary>
    public sealed record Inputs(double[] H, double[][] QW, double[][] QB, double[][] TW, double[][] TB, double[] VW, double VB, double[] Lm,
        int[] Actions, double[] Mask, double[] Rewards, int Rows, int T, int C, int V);

    /// <summary>Settings as in IlqlSettings.</summary>
    public sealed record Settings(double Tau, double Gamma, double CqlScale, double AwacScale, double Beta);

    /// <summary>The detached values per row: min target Q at the action, next V (0 at terminal), AWAC weight.</summary>
    public sealed record Frozen(double[] TargetQ, double[] NextV, double[] AwacWeight);

    private static double Dot(double[] a, int aOff, double[] b, int bOff, int n)
    {
        double s = 0;
        for (int i = 0; i < n; i++) s += a[aOff + i] * b[bOff + i];
        return s;
    }

    /// <summary>Head output of row n at column j: h[n]·W[j] + b[j].</summary>
    public static double Head(double[] h, double[] w, double[] b, int n, int j, int C) => Dot(h, n * C, w, j * C, C) + b[j];

    /// <summary>V of row n.</summary>
    public static double Value(Inputs x, int n) => Dot(x.H, n * x.C, x.VW, 0, x.C) + x.VB;

    /// <summary>The detached values at the point <paramref name="x"/>.</summary>
    public static Frozen Freeze(Inputs x, Settings s)
    {
        int N = x.Rows * x.T;
        var tq = new double[N];
        var next = new double[N];
        var w = new double[N];
        for (int n = 0; n < N; n++)
        {
            tq[n] = double.PositiveInfinity;
            for (int i = 0; i < x.TW.Length; i++) tq[n] = Math.Min(tq[n], Head(x.H, x.TW[i], x.TB[i], n, x.Actions[n], x.C));
            bool hasNext = n + 1 < N && (n + 1) % x.T != 0 && x.Mask[n + 1] != 0;
            next[n] = hasNext ? Value(x, n + 1) : 0;
            w[n] = Math.Exp(s.Beta * (tq[n] - Value(x, n)));
        }
        return new Frozen(tq, next, w);
    }

    /// <summary>Cross-entropy of row <paramref name="row"/> (V logits) at <paramref name="target"/>.</summary>
    private static double CrossEntropy(Func<int, double> row, int V, int target)
    {
        double m = double.NegativeInfinity;
        for (int j = 0; j < V; j++) m = Math.Max(m, row(j));
        double s = 0;
        for (int j = 0; j < V; j++) s += Math.Exp(row(j) - m);
        return m + Math.Log(s) - row(target);
    }

    /// <summary>loss_q + loss_v + cql·loss_cql + awac·loss_awac with the detached values held at <paramref name="f"/>.</summary>
    public static double Loss(Inputs x, Settings s, Frozen f)
    {
        int N = x.Rows * x.T;
        double nnt = Math.Max(1, x.Mask.Sum()), lq = 0, lv = 0, lc = 0, la = 0;
        for (int n = 0; n < N; n++)
        {
            if (x.Mask[n] == 0) continue;
            int a = x.Actions[n];
            for (int i = 0; i < x.QW.Length; i++)
            {
                double q = Head(x.H, x.QW[i], x.QB[i], n, a, x.C);
                double td = q - (x.Rewards[n] + s.Gamma * f.NextV[n]);
                lq += td * td;
                int head = i, row = n;
                lc += CrossEntropy(j => Head(x.H, x.QW[head], x.QB[head], row, j, x.C), x.V, a);
            }
            double v = Value(x, n), d = f.TargetQ[n] - v;
            lv += (d >= 0 ? s.Tau : 1 - s.Tau) * d * d;
            int r = n;
            la += f.AwacWeight[n] * CrossEntropy(j => x.Lm[r * x.V + j], x.V, a);
        }
        return (lq + lv + s.CqlScale * lc + s.AwacScale * la) / nnt;
    }
}
