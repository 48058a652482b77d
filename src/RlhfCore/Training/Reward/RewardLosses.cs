using RlhfCore.Feedback;

namespace RlhfCore.Training.Reward;

/// <summary>The reward-model objectives, one per feedback kind.</summary>
public enum RewardLoss
{
    /// <summary>Pairs: −log σ(r_chosen − r_rejected − margin) (TRL's RewardTrainer).</summary>
    BradleyTerry,
    /// <summary>K-wise rankings: −Σₖ log softmax(r_k, …, r_K)[k], best first (Plackett–Luce).</summary>
    PlackettLuce,
    /// <summary>Ratings: (r − rating)².</summary>
    Regression,
    /// <summary>Approvals: binary cross-entropy of σ(r) against the label.</summary>
    Logistic,
}

/// <summary>
/// The reward losses as host functions over a batch's few scores (one per sequence), in float64. Each
/// returns the mean loss over the batch's groups (a pair, a ranking, or one rated or labelled
/// completion) and overwrites <c>grad</c> with d(mean loss)/d(score); the trainer uploads that gradient
/// into the reward head's output gradient and runs backward. Groups are contiguous runs of scores.
/// Softplus and sigmoid are computed in their overflow-free forms.
/// </summary>
public static class RewardLosses
{
    /// <summary>The loss for a feedback kind.</summary>
    public static RewardLoss For(FeedbackKind kind) => kind switch
    {
        FeedbackKind.Pairs or FeedbackKind.Transcripts => RewardLoss.BradleyTerry,
        FeedbackKind.Rankings => RewardLoss.PlackettLuce,
        FeedbackKind.Ratings => RewardLoss.Regression,
        FeedbackKind.Approvals => RewardLoss.Logistic,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>
    /// Bradley–Terry over G pairs laid out <c>[c₀, r₀, c₁, r₁, …]</c>: mean of softplus(−(c − r − m)).
    /// d/dc = −σ(−(c − r − m))/G, d/dr = +σ(−(c − r − m))/G.
    /// </summary>
    public static double BradleyTerry(ReadOnlySpan<double> scores, ReadOnlySpan<double> margins, Span<double> grad)
    {
        int G = margins.Length;
        if (scores.Length != 2 * G || grad.Length != scores.Length) throw new ArgumentException("Bradley–Terry needs two scores per margin and a gradient of the same length");
        double loss = 0;
        for (int g = 0; g < G; g++)
        {
            double x = scores[2 * g] - scores[2 * g + 1] - margins[g];
            loss += Softplus(-x);
            double d = Sigmoid(-x) / G;
            grad[2 * g] = -d;
            grad[2 * g + 1] = d;
        }
        return loss / G;
    }

    /// <summary>
    /// Plackett–Luce over rankings (each group best first): the mean over groups of
    /// Σₖ₌₀^{K−2} [logsumexp(r_k … r_{K−1}) − r_k]. The gradient of one stage k is softmax(r_k …)[j] − [j = k].
    /// With K = 2 it equals Bradley–Terry without margin.
    /// </summary>
    public static double PlackettLuce(ReadOnlySpan<double> scores, ReadOnlySpan<int> starts, ReadOnlySpan<int> sizes, Span<double> grad)
    {
        int G = starts.Length;
        grad.Clear();
        double loss = 0;
        for (int g = 0; g < G; g++)
        {
            var r = scores.Slice(starts[g], sizes[g]);
            var d = grad.Slice(starts[g], sizes[g]);
            for (int k = 0; k < r.Length - 1; k++)
            {
                double lse = LogSumExp(r[k..]);
                loss += lse - r[k];
                for (int j = k; j < r.Length; j++) d[j] += Math.Exp(r[j] - lse) / G;
                d[k] -= 1.0 / G;
            }
        }
        return loss / G;
    }

    /// <summary>Mean squared error against the ratings: mean of (r − y)², gradient 2(r − y)/N.</summary>
    public static double Regression(ReadOnlySpan<double> scores, ReadOnlySpan<double> targets, Span<double> grad)
    {
        int N = scores.Length;
        double loss = 0;
        for (int i = 0; i < N; i++)
        {
            double e = scores[i] - targets[i];
            loss += e * e;
            grad[i] = 2 * e / N;
        }
        return loss / N;
    }

    /// <summary>Binary cross-entropy of σ(r) against labels y ∈ {0, 1}: mean of softplus(r) − y·r, gradient (σ(r) − y)/N.</summary>
    public static double Logistic(ReadOnlySpan<double> scores, ReadOnlySpan<double> labels, Span<double> grad)
    {
        int N = scores.Length;
        double loss = 0;
        for (int i = 0; i < N; i++)
        {
            loss += Softplus(scores[i]) - labels[i] * scores[i];
            grad[i] = (Sigmoid(scores[i]) - labels[i]) / N;
        }
        return loss / N;
    }

    /// <summary>
    /// Reward centering (TRL's <c>center_rewards_coefficient</c>): adds c · mean over groups of (Σ group scores)²
    /// to the loss and its gradient 2c·Σ/G to <paramref name="grad"/> (accumulates). For pairs this is
    /// TRL's c · mean((r_c + r_r)²); it pulls the model's scores towards mean zero.
    /// </summary>
    public static double Centering(ReadOnlySpan<double> scores, ReadOnlySpan<int> starts, ReadOnlySpan<int> sizes, double coefficient, Span<double> grad)
    {
        int G = starts.Length;
        double loss = 0;
        for (int g = 0; g < G; g++)
        {
            double sum = 0;
            for (int k = 0; k < sizes[g]; k++) sum += scores[starts[g] + k];
            loss += sum * sum;
            for (int k = 0; k < sizes[g]; k++) grad[starts[g] + k] += 2 * coefficient * sum / G;
        }
        return coefficient * loss / G;
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>1 / (1 + e⁻ˣ) without overflow.</summary>
    public static double Sigmoid(double x) => x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));

    private static double LogSumExp(ReadOnlySpan<double> x)
    {
        double m = double.NegativeInfinity;
        foreach (double v in x) m = Math.Max(m, v);
        double s = 0;
        foreach (double v in x) s += Math.Exp(v - m);
        return m + Math.Log(s);
    }
}
