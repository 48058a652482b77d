namespace RlhfCore.Tests.Reference;

/// <summary>
/// Naive float64 reward losses, the oracle for <see cref="RlhfCore.Training.Reward.RewardLosses"/>: each
/// written straight from its probability model (σ as 1/(1+e⁻ˣ), Plackett–Luce as a product of softmax
/// stages, BCE as −[y log p + (1−y) log(1−p)]) with no stabilizing rewrites, and each gradient from the
/// chain rule term by term. Every function returns the mean loss over groups and d(mean)/d(score).
/// </summary>
public static class RewardLossReference
{
    private static double Sigma(double x) => 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>mean over g of −log σ(c_g − r_g − m_g).</summary>
    public static (double Loss, double[] Grad) BradleyTerry(double[] chosen, double[] rejected, double[] margins)
    {
        int G = chosen.Length;
        double loss = 0;
        var grad = new double[2 * G];
        for (int g = 0; g < G; g++)
        {
            double p = Sigma(chosen[g] - rejected[g] - margins[g]);
            loss += -Math.Log(p);
            // d(−log p)/dx = −(1 − p), x = c − r − m
            grad[2 * g] = -(1 - p) / G;
            grad[2 * g + 1] = (1 - p) / G;
        }
        return (loss / G, grad);
    }

    /// <summary>mean over rankings of −log Πₖ e^{r_k} / Σ_{j≥k} e^{r_j} (best first).</summary>
    public static (double Loss, double[][] Grad) PlackettLuce(double[][] rankings)
    {
        int G = rankings.Length;
        double loss = 0;
        var grad = new double[G][];
        for (int g = 0; g < G; g++)
        {
            var r = rankings[g];
            int K = r.Length;
            grad[g] = new double[K];
            double probability = 1;
            for (int k = 0; k < K; k++)
            {
                double denominator = 0;
                for (int j = k; j < K; j++) denominator += Math.Exp(r[j]);
                probability *= Math.Exp(r[k]) / denominator;
                // stage k: −r_k + log Σ_{j≥k} e^{r_j}; its derivative in r_j (j ≥ k) is e^{r_j}/Σ − [j = k]
                for (int j = k; j < K; j++) grad[g][j] += (Math.Exp(r[j]) / denominator - (j == k ? 1 : 0)) / G;
            }
            loss += -Math.Log(probability);
        }
        return (loss / G, grad);
    }

    /// <summary>mean of (r − y)².</summary>
    public static (double Loss, double[] Grad) Regression(double[] scores, double[] targets)
    {
        int N = scores.Length;
        double loss = 0;
        var grad = new double[N];
        for (int i = 0; i < N; i++)
        {
            loss += Math.Pow(scores[i] - targets[i], 2);
            grad[i] = 2 * (scores[i] - targets[i]) / N;
        }
        return (loss / N, grad);
    }

    /// <summary>mean of −[y log σ(r) + (1 − y) log(1 − σ(r))].</summary>
    public static (double Loss, double[] Grad) Logistic(double[] scores, double[] labels)
    {
        int N = scores.Length;
        double loss = 0;
        var grad = new double[N];
        for (int i = 0; i < N; i++)
        {
            double p = Sigma(scores[i]);
            loss += -(labels[i] * Math.Log(p) + (1 - labels[i]) * Math.Log(1 - p));
            // dp/dr = p(1 − p): −[y(1 − p) − (1 − y)p] = p − y
            grad[i] = (-(labels[i] * (1 - p)) + (1 - labels[i]) * p) / N;
        }
        return (loss / N, grad);
    }

    /// <summary>c · mean over groups of (Σ group)²; the gradient of each member is 2c·Σ/G.</summary>
    public static (double Loss, double[][] Grad) Centering(double[][] groups, double coefficient)
    {
        int G = groups.Length;
        double loss = 0;
        var grad = new double[G][];
        for (int g = 0; g < G; g++)
        {
            double s = groups[g].Sum();
            loss += coefficient * s * s / G;
            grad[g] = groups[g].Select(_ => 2 * coefficient * s / G).ToArray();
        }
        return (loss, grad);
    }
}
