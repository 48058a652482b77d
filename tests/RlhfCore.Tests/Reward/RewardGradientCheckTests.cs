using RlhfCore.Backends.Cpu;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Tests.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>
/// Finite-difference checks of each reward loss's gradient through a whole tiny model (the pattern of
/// <see cref="GradientCheckTests"/>): the loss's host gradient, uploaded into the reward head's output
/// gradient and backpropagated, must match central differences of the loss in every parameter tensor.
/// Batches mix sequence lengths, so padding and the last-token gather are exercised. Tolerance as there:
/// |fd − analytic| ≤ 2e-3 + 3e-2·|analytic| with h = 1e-2.
/// </summary>
public class RewardGradientCheckTests
{
    private const int T = 9;
    private const float H = 1e-2f;

    [Test]
    public void BradleyTerryWithMargin() => Check(RewardLoss.BradleyTerry, 0,
        Group(FeedbackKind.Pairs, [6, 3], margin: 0.3), Group(FeedbackKind.Pairs, [9, 7], margin: 0), Group(FeedbackKind.Pairs, [2, 5], margin: 1));

    [Test]
    public void PlackettLuce() => Check(RewardLoss.PlackettLuce, 0,
        Group(FeedbackKind.Rankings, [5, 8, 2, 9]), Group(FeedbackKind.Rankings, [4, 4, 6]));

    [Test]
    public void Regression() => Check(RewardLoss.Regression, 0,
        Group(FeedbackKind.Ratings, [7], target: 1.5), Group(FeedbackKind.Ratings, [3], target: -2), Group(FeedbackKind.Ratings, [9], target: 0.25));

    [Test]
    public void Logistic() => Check(RewardLoss.Logistic, 0,
        Group(FeedbackKind.Approvals, [8], target: 1), Group(FeedbackKind.Approvals, [4], target: 0), Group(FeedbackKind.Approvals, [6], target: 1));

    [Test]
    public void BradleyTerryWithCentering() => Check(RewardLoss.BradleyTerry, 0.5,
        Group(FeedbackKind.Pairs, [6, 3]), Group(FeedbackKind.Pairs, [9, 7], margin: 0.5));

    [Test]
    public void PlackettLuceWithCentering() => Check(RewardLoss.PlackettLuce, 0.5,
        Group(FeedbackKind.Rankings, [5, 8, 2]), Group(FeedbackKind.Rankings, [4, 7, 6, 3]));

    private static int _seed = 1;

    private static RewardExample Group(FeedbackKind kind, int[] lengths, double margin = 0, double target = 0)
    {
        var rng = new Random(_seed++);
        var seqs = lengths.Select(n => Enumerable.Range(0, n).Select(_ => rng.Next(TinyModels.Config.VocabSize)).ToArray()).ToArray();
        return new RewardExample(kind, seqs, target, margin, "test");
    }

    private static void Check(RewardLoss loss, double centering, params RewardExample[] groups)
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config, ModelHeads.Reward);
        TinyModels.RandomizeParameters(model, seed: 21 + (int)loss);
        var batch = new RewardBatch(groups.Sum(g => g.Sequences.Length), T);
        foreach (var g in groups) batch.Add(g);
        using var step = new RewardStep(model, batch.MaxRows, T);
        double Loss(bool backward) => step.Run(batch, loss, centering, backward, 1, new RewardMetrics());

        model.ZeroGradients();
        double value = Loss(backward: true);
        Assert.That(double.IsFinite(value));
        var rng = new Random(77);
        for (int i = 0; i < model.Table.Count; i++)
        {
            var spec = model.Table[i];
            var p = new float[spec.Length];
            var g = new float[spec.Length];
            be.Download<float>(model.Parameters.Tensors[i], p);
            be.Download<float>(model.Gradients.Tensors[i], g);
            var probe = Enumerable.Range(0, 5).Select(_ => rng.Next(p.Length)).Append(ArgMaxAbs(g)).Distinct();
            foreach (int j in probe)
            {
                float orig = p[j];
                p[j] = orig + H; be.Upload<float>(model.Parameters.Tensors[i], p); double up = Loss(false);
                p[j] = orig - H; be.Upload<float>(model.Parameters.Tensors[i], p); double down = Loss(false);
                p[j] = orig; be.Upload<float>(model.Parameters.Tensors[i], p);
                double fd = (up - down) / (2 * H);
                Assert.That(Math.Abs(fd - g[j]), Is.LessThanOrEqualTo(2e-3 + 3e-2 * Math.Abs(g[j])),
                    $"{loss}: {spec.Name}[{j}]: analytic {g[j]:g5}, finite difference {fd:g5}");
            }
        }
        Assert.That(GradientSquaredNorm(model), Is.GreaterThan(0), "the loss must produce a gradient");
    }

    private static double GradientSquaredNorm(GptModel model)
    {
        var g = new float[model.Gradients.All.Length];
        model.Backend.Download<float>(model.Gradients.All, g);
        return g.Sum(x => (double)x * x);
    }

    private static int ArgMaxAbs(float[] a)
    {
        int best = 0;
        for (int i = 1; i < a.Length; i++) if (Math.Abs(a[i]) > Math.Abs(a[best])) best = i;
        return best;
    }
}
