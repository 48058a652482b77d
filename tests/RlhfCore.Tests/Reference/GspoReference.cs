namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 GSPO loss from logits, the oracle for <see cref="RlhfCore.Rl.SequenceRatio"/> and
/// <see cref="RlhfCore.Rl.SequenceRatioLoss"/>: log-probs by log-softmax, each sequence's ratio as
/// exp(mean over its action tokens of the log-ratio), then Σₙ wₙ·max(−A·s, −A·clamp(s, 1−lo, 1+hi)) of n's sequence.
/// </summary>
public static class GspoReference
{
    /// <summary>Per-sequence ratios and the loss.</summary>
    public static (double[] Ratios, double Loss) Run(double[] logits, int[] actions, double[] oldLogp, double[] mask, double[] weights,
        double[] advantages, int rows, int V, double lo, double hi)
    {
        int N = actions.Length, T = N / rows;
        var ratios = new double[rows];
        double loss = 0;
        for (int b = 0; b < rows; b++)
        {
            var logRatios = new List<double>();
            double W = 0;
            for (int t = b * T; t < (b + 1) * T; t++)
            {
                if (mask[t] == 0) continue;
                logRatios.Add(PpoLossReference.LogSoftmax(logits.AsSpan(t * V, V))[actions[t]] - oldLogp[t]);
                W += weights[t];
            }
            double s = Math.Exp(logRatios.Count == 0 ? 0 : logRatios.Average());
            ratios[b] = s;
            double A = advantages[b];
            loss += W * Math.Max(-A * s, -A * Math.Clamp(s, 1 - lo, 1 + hi));
        }
        return (ratios, loss);
    }
}
