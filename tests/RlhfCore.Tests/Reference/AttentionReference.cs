namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 causal multi-head attention with a key padding mask (the oracle for the backends).
/// qkv[B, T, 3C] = q | k | v; key s is visible to query t iff s ≤ t and mask[b, s] ≠ 0; a query with no
/// visible key has a zero probability row and zero output.
/// </summary>
public static class AttentionReference
{
    /// <summary>Returns out[B, T, C] and the probabilities att[B, NH, T, T].</summary>
    public static (double[] Out, double[] Att) Forward(double[] qkv, int[] mask, int B, int T, int C, int NH)
    {
        int hs = C / NH;
        double scale = 1.0 / Math.Sqrt(hs);
        var output = new double[B * T * C];
        var att = new double[B * NH * T * T];
        for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++)
        {
            int row = ((b * NH + h) * T + t) * T;
            double max = double.NegativeInfinity;
            var score = new double[T];
            for (int s = 0; s <= t; s++)
            {
                if (mask[b * T + s] == 0) continue;
                double d = 0;
                for (int i = 0; i < hs; i++) d += qkv[At(b, t, 0, h, i, T, C, hs)] * qkv[At(b, s, 1, h, i, T, C, hs)];
                score[s] = d * scale;
                max = Math.Max(max, score[s]);
            }
            if (double.IsNegativeInfinity(max)) continue;
            double sum = 0;
            for (int s = 0; s <= t; s++)
                if (mask[b * T + s] != 0) sum += att[row + s] = Math.Exp(score[s] - max);
            for (int s = 0; s <= t; s++) att[row + s] /= sum;
            for (int i = 0; i < hs; i++)
            {
                double o = 0;
                for (int s = 0; s <= t; s++) o += att[row + s] * qkv[At(b, s, 2, h, i, T, C, hs)];
                output[(b * T + t) * C + h * hs + i] = o;
            }
        }
        return (output, att);
    }

    /// <summary>dqkv[B, T, 3C] for the upstream gradient dout[B, T, C], given the probabilities att.</summary>
    public static double[] Backward(double[] dout, double[] qkv, double[] att, int B, int T, int C, int NH)
    {
        int hs = C / NH;
        double scale = 1.0 / Math.Sqrt(hs);
        var dqkv = new double[B * T * 3 * C];
        for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
        for (int t = 0; t < T; t++)
        {
            int row = ((b * NH + h) * T + t) * T;
            var dp = new double[T];
            for (int s = 0; s <= t; s++)
                for (int i = 0; i < hs; i++)
                {
                    double g = dout[(b * T + t) * C + h * hs + i];
                    dp[s] += g * qkv[At(b, s, 2, h, i, T, C, hs)];
                    dqkv[At(b, s, 2, h, i, T, C, hs)] += att[row + s] * g;
                }
            double mean = 0;
            for (int s = 0; s <= t; s++) mean += att[row + s] * dp[s];
            for (int s = 0; s <= t; s++)
            {
                double dpre = scale * att[row + s] * (dp[s] - mean);
                for (int i = 0; i < hs; i++)
                {
                    dqkv[At(b, t, 0, h, i, T, C, hs)] += dpre * qkv[At(b, s, 1, h, i, T, C, hs)];
                    dqkv[At(b, s, 1, h, i, T, C, hs)] += dpre * qkv[At(b, t, 0, h, i, T, C, hs)];
                }
            }
        }
        return dqkv;
    }

    /// <summary>Index of channel i of head h of part (0 = q, 1 = k, 2 = v) at (b, t) in qkv[B, T, 3C].</summary>
    private static int At(int b, int t, int part, int h, int i, int T, int C, int hs) => (b * T + t) * 3 * C + part * C + h * hs + i;
}
