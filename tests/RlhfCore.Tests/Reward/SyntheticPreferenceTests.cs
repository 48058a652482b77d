using System.Diagnostics;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Feedback;
using RlhfCore.Data.Tasks;
using RlhfCore.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Tests.Reward;

/// <summary>
/// The reward model learns noiseless synthetic preferences: on single-digit addition, the correct sum is
/// preferred over a wrong one, and a tiny model trained for a few seconds orders held-out pairs it never
/// saw (wrong answers it never saw for that prompt) with accuracy ≥ 0.9. Measured: 0.993 after 800 steps,
/// about 2 s on 2 cores; seeds 7–9 all reach ≥ 0.99 with these settings.
/// </summary>
public class SyntheticPreferenceTests
{
    [Test]
    public void LearnsArithmeticCorrectnessToHighHeldOutAccuracy()
    {
        using var be = new CpuBackend(2);
        var config = new GptConfig(VocabSize: 260, MaxSeqLen: 8, NumLayers: 2, NumHeads: 2, Channels: 32);
        using var model = new GptModel(be, config, ModelHeads.Reward);
        model.InitializeWeights(7);
        var task = new ArithmeticTask(MaxOperand: 10);
        var train = ArithmeticPreferences.Generate(task, 3000, seed: 1);
        // Held out means unseen: only (prompt, wrong answer) combinations the training pairs never show.
        var seen = train.Select(p => (p.Prompt, p.Rejected)).ToHashSet();
        var eval = ArithmeticPreferences.Generate(task, 3000, seed: 2).Where(p => !seen.Contains((p.Prompt, p.Rejected))).Take(300).ToList();
        Assert.That(eval, Has.Count.EqualTo(300));
        var options = new RewardOptions { Batch = 32, SeqLen = 8, Steps = Steps, Lr = 2e-3f, Warmup = 20, EvalEvery = 0, Seed = 3, WeightDecay = 0 };
        using var trainer = RewardTrainer.FromFeedback(model, ByteTokenizer.Instance, train, eval, options);
        var clock = Stopwatch.StartNew();
        RewardStepReport? last = null;
        trainer.Run(CancellationToken.None, r => last = r);
        TestContext.Progress.WriteLine($"{Steps} steps in {clock.Elapsed.TotalSeconds:F1} s, held-out {last!.Eval}");
        Assert.That(last.Eval!.Accuracy, Is.GreaterThanOrEqualTo(0.9));
    }

    private const int Steps = 800;
}
