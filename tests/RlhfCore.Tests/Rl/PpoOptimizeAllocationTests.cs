using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Rl;
using RlhfCore.Training.Ppo;

namespace RlhfCore.Tests.Rl;

/// <summary>
/// PPO's optimization phase stages minibatches through host buffers allocated once: after a warm-up
/// call, what epochs of minibatches allocate does not grow with the minibatch's size (no per-minibatch
/// arrays), and stays under a small fixed amount per minibatch.
/// </summary>
public class PpoOptimizeAllocationTests
{
    private static double BytesPerMinibatch(int miniBatch)
    {
        var config = new GptConfig(VocabSize: 13, MaxSeqLen: 16, NumLayers: 1, NumHeads: 2, Channels: 16);
        var o = new PpoOptions
        {
            Method = PolicyGradientMethod.Ppo, PromptsPerStep = 32, MiniBatch = miniBatch, Epochs = 2, MaxNewTokens = 12, StopAtEos = false,
            KlCoef = 0.05, Lr = 1e-3f, WeightDecay = 0, Steps = 10, CheckpointEvery = 0, Seed = 7, TargetKl = 0,
        };
        using var be = new CpuBackend(1);
        using var policy = new GptModel(be, config, ModelHeads.Value);
        policy.InitializeWeights(5);
        using var reference = new GptModel(be, config);
        RlTestKit.CopyShared(policy, reference);
        using var trainer = new PpoTrainer(policy, reference, new FunctionReward((_, r) => r.Length), new LetterTokenizer(13), ["a", "bc"], o);
        var r = trainer.Step().Rollout;
        var advantages = new float[r.Mask.Length];
        var returns = new float[r.Mask.Length];
        for (int n = 0; n < advantages.Length; n++) { advantages[n] = (n % 7 - 3) * 0.1f; returns[n] = (n % 5) * 0.2f; }
        var metrics = new Dictionary<string, double>();
        trainer.Optimize(r, advantages, returns, 0.05, 1e-3f, metrics, out _);

        const int calls = 3;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int c = 0; c < calls; c++) trainer.Optimize(r, advantages, returns, 0.05, 1e-3f, metrics, out _);
        return (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(calls * o.Epochs * (32 / miniBatch));
    }

    [Test]
    public void MinibatchesAllocateNoHostArrays()
    {
        double small = BytesPerMinibatch(4), large = BytesPerMinibatch(16);
        TestContext.Out.WriteLine($"bytes allocated per minibatch: {small:F0} at 4 rows, {large:F0} at 16 rows");
        // 12 more rows of 13 positions make each staged float array 624 bytes larger, so any one of them shows here;
        // the per-call statistics list (about 600 bytes) spread over 4 instead of 16 minibatches adds about 120.
        Assert.That(large - small, Is.LessThan(256), "allocation grows with the minibatch: a host array is allocated per minibatch");
        Assert.That(large, Is.LessThan(1024));
    }
}
