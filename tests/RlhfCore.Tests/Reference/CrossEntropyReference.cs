namespace RlhfCore.Tests.Reference;

/// <summary>Naive float64 fused softmax + cross-entropy: the oracle for CrossEntropyForwardBackward.</summary>
public static class CrossEntropyReference
{
    /// <summary>
    /// losses[n] = −log softmax(x[n])[target[n]]; dlogits[n, v] = w[n]·(p[v] − 1[v = target[n]]);
    /// target −1: loss 0 and a zero gradient row. <paramref name="weights"/> null means all ones.
    /// </summary>
    public static (double[] Losses, double[] DLogits) ForwardBackward(float[] logits, int[] targets, float[]? weights, int N, int V)
    {
        var losses = new double[N];
        var dlogits = new double[N * V];
        for (int n = 0; n < N; n++)
        {
            if (targets[n] < 0) continue;
            var p = LogProbsReference.Softmax(logits, n, V);
            losses[n] = -Math.Log(p[targets[n]]);
            double w = weights?[n] ?? 1.0;
            for (int v = 0; v < V; v++) dlogits[n * V + v] = w * (p[v] - (v == targets[n] ? 1 : 0));
        }
        return (losses, dlogits);
    }
}
