using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tests.Model;
using RlhfCore.Tests.Reference;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Dpo;

/// <summary>
/// The DPO and IPO losses through the whole model: completion log-probs (the fused cross-entropy kernel used
/// forwards and, with weights −∂L/∂logp, backwards in place) against the float64 reference, and the policy's
/// parameter gradients against central differences of the loss, as <see cref="GradientCheckTests"/> does for
/// the heads (same h and tolerance). The reference model must get no gradient.
/// </summary>
public class DpoGradientCheckTests
{
    private const int T = 8;
    private const float H = 1e-2f;

    private static List<DpoExample> RandomPairs(int seed, int count)
    {
        var rng = new Random(seed);
        int V = TinyModels.Config.VocabSize;
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(V)).ToArray();
        var pairs = new List<DpoExample>();
        for (int i = 0; i < count; i++)
        {
            // Lengths vary so rows pad differently; prompt + completion − 1 ≤ T.
            int prompt = 1 + rng.Next(4);
            pairs.Add(new DpoExample(Tokens(prompt), Tokens(1 + rng.Next(T - prompt + 1)), Tokens(1 + rng.Next(T - prompt + 1))));
        }
        return pairs;
    }

    [Test]
    public void CompletionLogProbsMatchReference()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(model, 21);
        var pairs = RandomPairs(22, 3);
        var batch = new DpoBatch(3, T);
        batch.Fill(pairs);
        using var seq = new SequenceLogProbs(be, TinyModels.Config, 6, T);
        seq.Upload(batch);
        var logp = new double[6];
        seq.Forward(model, logp);

        int V = TinyModels.Config.VocabSize, N = 6 * T;
        var logits = new float[N * V];
        be.Download<float>(seq.Activations.Logits.Slice(0, N * V), logits);
        for (int row = 0; row < 6; row++)
        {
            var e = pairs[row % 3];
            int[] completion = row < 3 ? e.Chosen : e.Rejected;
            int[] sequence = [.. e.Prompt, .. completion];
            double expected = 0;
            for (int j = e.Prompt.Length; j < sequence.Length; j++)
                expected += Math.Log(LogProbsReference.Softmax(logits, row * T + j - 1, V)[sequence[j]]);
            Assert.That(logp[row], Is.EqualTo(expected).Within(1e-5 + 1e-5 * Math.Abs(expected)), $"row {row}");
        }
    }

    [TestCase(DpoLossKind.Sigmoid, 0.5, 0.0, 31)]
    [TestCase(DpoLossKind.Sigmoid, 1.0, 0.2, 32)]
    [TestCase(DpoLossKind.Ipo, 0.5, 0.0, 33)]
    public void PolicyGradientMatchesFiniteDifferences(DpoLossKind kind, double beta, double eps, int seed)
    {
        using var be = new CpuBackend(2);
        using var policy = new GptModel(be, TinyModels.Config);
        using var reference = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(policy, seed);
        TinyModels.RandomizeParameters(reference, seed + 1000);
        var batch = new DpoBatch(3, T);
        batch.Fill(RandomPairs(seed + 1, 3));
        using var step = new DpoStep(policy, reference, 3, T, kind, beta, eps);
        double Loss(bool backward) => step.Run(batch, backward, 1.0 / 3, new DpoMetricsSum()) / 3;

        policy.ZeroGradients();
        reference.ZeroGradients();
        Loss(backward: true);
        var refGrad = new float[reference.Gradients.All.Length];
        be.Download<float>(reference.Gradients.All, refGrad);
        Assert.That(refGrad.All(g => g == 0), Is.True, "the frozen reference received a gradient");

        var rng = new Random(seed + 100);
        FiniteDifferenceProbe.EveryTensor(be, policy, () => Loss(false), rng, H, 4);
    }
}
