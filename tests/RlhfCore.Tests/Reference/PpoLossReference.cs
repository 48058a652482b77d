namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 PPO clipped loss with entropy bonus, the oracle for
/// <see cref="RlhfCore.Backends.IBackend.PpoLossForwardBackward"/>: written straight from the formulas
/// (softmax by max-shift, entropy as −Σ p log p, gradient from the chain rule term by term).
/// </summary>
public static class PpoLossReference
{
    /// <summary>Per-row outputs and the gradient of Σₙ wₙ·lossₙ with respect to the logits.</summary>
    public sealed record Result(double[] Losses, double[] Logp, double[] Entropy, double[] Clipped, double[] DLogits);

    /// <summary>log softmax of one row.</summary>
    public static double[] LogSoftmax(ReadOnlySpan<double> x)
    {
        double m = double.NegativeInfinity;
        foreach (var v in x) m = Math.Max(m, v);
        double s = 0;
        foreach (var v in x) s += Math.Exp(v - m);
        var lp = new double[x.Length];
        for (int i = 0; i < x.Length; i++) lp[i] = x[i] - m - Math.Log(s);
        return lp;
    }

    /// <summary>
    /// Runs the loss on logits[N, V] (float64 copies of the kernel's inputs), clipped to [1 − clipLow, 1 + clipHigh]
    /// and, when dualClip &gt; 0 and A &lt; 0, bounded by −A·dualClip (verl's compute_policy_loss, written out).
    /// </summary>
    public static Result Run(double[] logits, int[] actions, double[] oldLogp, double[] advantages, double[] weights,
        int N, int V, double clipLow, double clipHigh, double dualClip, double entropyCoef)
    {
        var r = new Result(new double[N], new double[N], new double[N], new double[N], new double[(long)N * V]);
        for (int n = 0; n < N; n++)
        {
            var lp = LogSoftmax(logits.AsSpan(n * V, V));
            int a = actions[n];
            double h = 0;
            for (int v = 0; v < V; v++) h -= Math.Exp(lp[v]) * lp[v];
            double ratio = Math.Exp(lp[a] - oldLogp[n]);
            double adv = advantages[n];
            double pg1 = -adv * ratio;
            double pg2 = -adv * Math.Clamp(ratio, 1 - clipLow, 1 + clipHigh);
            bool clipped = pg2 > pg1;
            double pg = Math.Max(pg1, pg2);
            bool dual = dualClip > 0 && adv < 0 && pg > -adv * dualClip;
            if (dual) pg = -adv * dualClip;
            r.Losses[n] = pg - entropyCoef * h;
            r.Logp[n] = lp[a];
            r.Entropy[n] = h;
            r.Clipped[n] = dual ? 2 : clipped ? 1 : 0;

            double dpg = clipped || dual ? 0 : -adv * ratio; // ∂pg/∂logp
            for (int v = 0; v < V; v++)
            {
                double p = Math.Exp(lp[v]);
                double dlogp = (v == a ? 1 : 0) - p;   // ∂logp_a/∂x_v
                double dH = -p * (lp[v] + h);          // ∂H/∂x_v
                r.DLogits[(long)n * V + v] = weights[n] * (dpg * dlogp - entropyCoef * dH);
            }
        }
        return r;
    }

    /// <summary>Σₙ wₙ·lossₙ, the scalar whose gradient <see cref="Run"/> returns (for finite differences).</summary>
    public static double WeightedLoss(double[] logits, int[] actions, double[] oldLogp, double[] advantages, double[] weights,
        int N, int V, double clipLow, double clipHigh, double dualClip, double entropyCoef)
    {
        var r = Run(logits, actions, oldLogp, advantages, weights, N, V, clipLow, clipHigh, dualClip, entropyCoef);
        double sum = 0;
        for (int n = 0; n < N; n++) sum += weights[n] * r.Losses[n];
        return sum;
    }
}
