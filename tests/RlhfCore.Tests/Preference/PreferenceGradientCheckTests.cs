using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl.Preference;
using RlhfCore.Tests.Model;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Preference;

/// <summary>
/// KTO, ORPO and SimPO through a tiny model: the rows' summed completion log-probs from the DPO trainer's
/// <see cref="SequenceLogProbs"/>, the loss's log-prob gradients sent back through it, and the policy's parameter gradients
/// against central differences of the loss, with the h and tolerance of <see cref="DpoGradientCheckTests"/>
/// (h = 1e-2 in float32 parameters). KTO's rows are its examples (chosen rows desirable, rejected rows undesirable) against
/// fixed reference log-probs and KL-pair log-probs.
/// </summary>
public class PreferenceGradientCheckTests
{
    private const int T = 8, Pairs = 3;
    private const float H = 1e-2f;

    public enum Loss { Kto, Orpo, Simpo }

    private static List<DpoExample> RandomPairs(int seed)
    {
        var rng = new Random(seed);
        int V = TinyModels.Config.VocabSize;
        int[] Tokens(int n) => Enumerable.Range(0, n).Select(_ => rng.Next(V)).ToArray();
        return Enumerable.Range(0, Pairs).Select(_ =>
        {
            int prompt = 1 + rng.Next(4);
            return new DpoExample(Tokens(prompt), Tokens(1 + rng.Next(T - prompt + 1)), Tokens(1 + rng.Next(T - prompt + 1)));
        }).ToList();
    }

    [TestCase(Loss.Kto, 51)]
    [TestCase(Loss.Orpo, 52)]
    [TestCase(Loss.Simpo, 53)]
    public void PolicyGradientMatchesFiniteDifferences(Loss kind, int seed)
    {
        using var be = new CpuBackend(2);
        using var policy = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(policy, seed);
        var batch = new DpoBatch(Pairs, T);
        batch.Fill(RandomPairs(seed + 1));
        using var seq = new SequenceLogProbs(be, TinyModels.Config, 2 * Pairs, T);
        seq.Upload(batch);
        var rng = new Random(seed + 2);
        var refLogp = Enumerable.Range(0, 2 * Pairs).Select(_ => -10 - 10 * rng.NextDouble()).ToArray();
        var desirable = Enumerable.Range(0, 2 * Pairs).Select(r => r < Pairs).ToArray();
        double[] klPolicy = [-12.0, -15.0], klRef = [-12.5, -15.2];
        var lengths = batch.CompletionTokens;
        var logp = new double[2 * Pairs];

        double Run(bool backward)
        {
            seq.Forward(policy, logp);
            double[] chosen = logp[..Pairs], rejected = logp[Pairs..];
            double loss;
            var dlogp = new double[2 * Pairs];
            switch (kind)
            {
                case Loss.Kto:
                {
                    var r = KtoLoss.Batch(logp, refLogp, desirable, klPolicy, klRef, new KtoSettings(Beta: 0.5, UndesirableWeight: 1.3));
                    loss = r.Loss;
                    r.DPolicy.CopyTo(dlogp, 0);
                    break;
                }
                default:
                {
                    var r = kind == Loss.Orpo
                        ? OrpoLoss.Batch(chosen, rejected, lengths[..Pairs], lengths[Pairs..(2 * Pairs)], lambda: 0.5)
                        : SimpoLoss.Batch(chosen, rejected, lengths[..Pairs], lengths[Pairs..(2 * Pairs)], beta: 2, gamma: 0.5);
                    loss = r.Loss;
                    r.DChosen.CopyTo(dlogp, 0);
                    r.DRejected.CopyTo(dlogp, Pairs);
                    break;
                }
            }
            if (backward) seq.Backward(policy, dlogp);
            return loss;
        }

        policy.ZeroGradients();
        Run(backward: true);
        var pick = new Random(seed + 100);
        FiniteDifferenceProbe.EveryTensor(be, policy, () => Run(false), pick, H, 4, $"{kind} ");
    }
}
