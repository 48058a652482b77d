using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>The reward-hacking monitor warns on proxy-up-while-gold-down or disagreement-up, not on honest progress, and can stop a run.</summary>
public class HackingMonitorTests
{
    private static List<string> Feed(HackingMonitor m, Func<int, (double Proxy, double Gold, double Disagreement)> series, int steps)
    {
        var warnings = new List<string>();
        for (int s = 0; s < steps; s++)
        {
            var (p, g, d) = series(s);
            if (m.Observe(s, p, g, d) is { } w) warnings.Add(w);
        }
        return warnings;
    }

    private static double Noise(int s) => 0.02 * Math.Sin(s * 12.9898) * 43758.5453 % 0.02;

    [Test]
    public void ProxyUpWhileGoldDown_Warns_OncePerWindow()
    {
        var w = Feed(new HackingMonitor(6), s => (0.1 * s + Noise(s), 0.5 - 0.05 * s + Noise(s + 99), double.NaN), 18);
        Assert.That(w, Has.Count.EqualTo(3), string.Join("\n", w));
        Assert.That(w[0], Does.Contain("step 6").And.Contain("gold fell"));
    }

    [Test]
    public void ProxyUpWhileDisagreementUp_Warns()
    {
        var w = Feed(new HackingMonitor(5), s => (0.2 * s + Noise(s), double.NaN, 0.01 * s + Noise(s + 7) / 10), 5);
        Assert.That(w.Single(), Does.Contain("ensemble disagreement rose"));
    }

    [Test]
    public void HonestProgressOrNoise_DoesNotWarn()
    {
        Assert.That(Feed(new HackingMonitor(6), s => (0.1 * s + Noise(s), 0.3 + 0.05 * s + Noise(s + 5), 0.2 - 0.001 * s), 30), Is.Empty, "gold and proxy rise together");
        Assert.That(Feed(new HackingMonitor(6), s => (Noise(s), -Noise(s + 1), Noise(s + 2)), 30), Is.Empty, "no trend in the proxy");
        Assert.That(Feed(new HackingMonitor(6), s => (0.1 * s, double.NaN, double.NaN), 30), Is.Empty, "nothing to compare with");
    }

    [Test]
    public void StopOnHacking_EndsTheRunAtTheFirstWarning()
    {
        var config = new GptConfig(13, 8, 1, 2, 16);
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config);
        policy.InitializeWeights(5);
        using var reference = new GptModel(be, config);
        RlTestKit.CopyShared(policy, reference);
        // The proxy rises by one per rollout whatever the policy does; the gold reward falls as fast.
        int proxyCalls = 0, goldCalls = 0;
        var proxy = new CountingReward(() => proxyCalls++);
        var gold = new CountingReward(() => -goldCalls++);
        var o = new PpoOptions
        {
            Method = PolicyGradientMethod.Reinforce, PromptsPerStep = 4, MiniBatch = 4, MaxNewTokens = 1, Steps = 30, HackingWindow = 4,
            StopOnHacking = true, CheckpointEvery = 0, Lr = 1e-3f,
        };
        using var trainer = new PpoTrainer(policy, reference, proxy, new LetterTokenizer(13), ["a"], o, gold);
        var reports = new List<PpoStepReport>();
        int checkpoints = 0;
        trainer.Run(CancellationToken.None, reports.Add, _ => checkpoints++);
        Assert.That(trainer.StoppedForHacking);
        Assert.That(trainer.StepsDone, Is.EqualTo(4), "the first full window warns");
        Assert.That(reports[^1].HackingWarning, Does.Contain("gold fell"));
        Assert.That(checkpoints, Is.EqualTo(1), "a stopped run is saved as at the end");
        Assert.That(reports[^1].Metrics["reward/gold_minus_proxy"], Is.EqualTo(-3 - 3.0));
        Assert.That(reports[^1].Metrics["objective/kl_growth"], Is.EqualTo(reports[^1].Metrics["objective/kl"] - reports[^2].Metrics["objective/kl"]).Within(1e-12));
    }

    private sealed class CountingReward(Func<double> next) : IRewardFunction
    {
        public string Name => "counting";

        public double[] Score(IReadOnlyList<string> prompts, IReadOnlyList<string> responses)
        {
            double v = next();
            return prompts.Select(_ => v).ToArray();
        }
    }
}
