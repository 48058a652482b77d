namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 per-token log-probabilities and entropy, with their gradients.</summary>
public static class LogProbsReference
{
    /// <summary>softmax of row n of logits[N, V], in float64.</summary>
    public static double[] Softmax(float[] logits, int n, int V)
    {
        double max = double.NegativeInfinity;
        for (int v = 0; v < V; v++) max = Math.Max(max, logits[n * V + v]);
        var p = new double[V];
        double sum = 0;
        for (int v = 0; v < V; v++) sum += p[v] = Math.Exp(logits[n * V + v] - max);
        for (int v = 0; v < V; v++) p[v] /= sum;
        return p;
    }

    /// <summary>logp[n] = log softmax(logits[n])[tokens[n]].</summary>
    public static double[] TokenLogProbs(float[] logits, int[] tokens, int N, int V)
    {
        var logp = new double[N];
        for (int n = 0; n < N; n++) logp[n] = Math.Log(Softmax(logits, n, V)[tokens[n]]);
        return logp;
    }

    /// <summary>dlogits[n, v] = initial[n, v] + dlogp[n]·(1[v = tokens[n]] − p[n, v]).</summary>
    public static double[] TokenLogProbsBackward(float[] initial, float[] dlogp, float[] logits, int[] tokens, int N, int V)
    {
        var d = Array.ConvertAll(initial, x => (double)x);
        for (int n = 0; n < N; n++)
        {
            var p = Softmax(logits, n, V);
            for (int v = 0; v < V; v++) d[n * V + v] += dlogp[n] * ((v == tokens[n] ? 1 : 0) - p[v]);
        }
        return d;
    }

    /// <summary>entropy[n] = −Σ p log p.</summary>
    public static double[] Entropy(float[] logits, int N, int V)
    {
        var h = new double[N];
        for (int n = 0; n < N; n++)
            foreach (double p in Softmax(logits, n, V))
                if (p > 0) h[n] -= p * Math.Log(p);
        return h;
    }

    /// <summary>dlogits[n, v] = initial[n, v] + dentropy[n]·(−p (log p + H)).</summary>
    public static double[] EntropyBackward(float[] initial, float[] dentropy, float[] logits, int N, int V)
    {
        var d = Array.ConvertAll(initial, x => (double)x);
        var h = Entropy(logits, N, V);
        for (int n = 0; n < N; n++)
        {
            var p = Softmax(logits, n, V);
            for (int v = 0; v < V; v++)
                if (p[v] > 0) d[n * V + v] += dentropy[n] * (-p[v] * (Math.Log(p[v]) + h[n]));
        }
        return d;
    }
}
