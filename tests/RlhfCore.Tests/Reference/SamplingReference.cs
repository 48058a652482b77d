namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 statement of the sampling rule (see the CPU backend's Sampling.cs): rank by logit
/// descending then index ascending; integer weights w = floor(exp((x − max)/T)·2^32) (here with a float64
/// exp); keep the top-k (0 &lt; k &lt; V), then the shortest prefix with weight ≥ topP of the candidates'
/// weight; pick the first kept token whose cumulative weight reaches u·(kept weight). Temperature 0 is the
/// argmax, lowest index on ties.
/// </summary>
public static class SamplingReference
{
    /// <summary>The kept tokens in rank order and their renormalized probabilities.</summary>
    public static (int[] Tokens, double[] Probs) KeptSet(float[] logits, int row, int V, float temperature, int topK, float topP)
    {
        var x = new ArraySegment<float>(logits, row * V, V);
        double max = x.Max();
        var order = Enumerable.Range(0, V).OrderByDescending(v => x[v]).ThenBy(v => v).ToArray();
        int k = topK > 0 && topK < V ? topK : V;
        var e = order.Take(k).Select(v => Math.Floor(Math.Exp((x[v] - max) / temperature) * 4294967296.0)).ToArray();
        double s = e.Sum();
        int kept = k;
        if (topP < 1)
        {
            double c = 0;
            for (kept = 0; kept < k;)
            {
                c += e[kept++];
                if (c >= (double)topP * s) break;
            }
        }
        double total = e.Take(kept).Sum();
        return (order.Take(kept).ToArray(), e.Take(kept).Select(p => p / total).ToArray());
    }

    /// <summary>The token the rule picks for uniform <paramref name="u"/>.</summary>
    public static int Sample(float[] logits, int row, int V, float temperature, int topK, float topP, double u)
    {
        if (temperature == 0) return ArgMax(logits, row, V);
        var (tokens, probs) = KeptSet(logits, row, V, temperature, topK, topP);
        double c = 0;
        for (int j = 0; j < tokens.Length; j++)
        {
            c += probs[j];
            if (c >= u) return tokens[j];
        }
        for (int j = tokens.Length - 1; j > 0; j--) if (probs[j] > 0) return tokens[j];
        return tokens[0];
    }

    /// <summary>Index of the largest logit of the row, lowest on ties.</summary>
    public static int ArgMax(float[] logits, int row, int V)
    {
        int best = 0;
        for (int v = 1; v < V; v++) if (logits[row * V + v] > logits[row * V + best]) best = v;
        return best;
    }
}
