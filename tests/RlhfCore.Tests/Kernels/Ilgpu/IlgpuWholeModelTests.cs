using RlhfCore.Backends;
using RlhfCore.Backends.Cpu;
using RlhfCore.Model;
using RlhfCore.Tensors;
using RlhfCore.Tests.Model;

namespace RlhfCore.Tests.Kernels.Ilgpu;

/// <summary>
/// End to end on ILGPU's CPU accelerator: three training steps of a tiny GPT (forward, fused cross-entropy,
/// backward, gradient norm, AdamW) give the CPU backend's losses, gradient norms and final weights. The
/// kernels are checked one by one against the float64 references elsewhere; this catches what only the
/// whole model exercises: arena slices and offsets, argument order, aliasing (dlogits over logits) and
/// accumulation across layers.
/// </summary>
[TestFixture, NonParallelizable]
public sealed class IlgpuWholeModelTests
{
    private const int B = 2, T = 7, Steps = 3;

    private static (double[] Losses, double[] GradNorms, float[] Weights) Train(IBackend be)
    {
        using var model = new GptModel(be, TinyModels.Config);
        TinyModels.RandomizeParameters(model, seed: 21);
        using var acts = new GptActivations(be, TinyModels.Config, B, T);
        var rng = new Random(22);
        var tokens = new int[B * T];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = rng.Next(TinyModels.Config.VocabSize);
        TinyModels.UploadBatch(be, acts, tokens, lengths: [T, 4], T);
        long n = model.Parameters.All.Length;
        using var mBuf = be.Allocate(n * 4);
        using var vBuf = be.Allocate(n * 4);
        using var normBuf = be.Allocate(64);
        Tensor m = mBuf.AsTensor(DType.F32, (int)n), v = vBuf.AsTensor(DType.F32, (int)n), norm = normBuf.AsTensor(DType.F32, 1);
        be.Zero(m);
        be.Zero(v);
        int N = B * T, V = TinyModels.Config.VocabSize;
        var losses = new double[Steps];
        var norms = new double[Steps];
        for (int step = 1; step <= Steps; step++)
        {
            model.ZeroGradients();
            model.Forward(acts, B, T);
            be.CrossEntropyForwardBackward(acts.Losses, acts.Logits, acts.Logits, acts.Targets, acts.LossWeights, N, V);
            var l = new float[N];
            var w = new float[N];
            be.Download<float>(acts.Losses.Slice(0, N), l);
            be.Download<float>(acts.LossWeights.Slice(0, N), w);
            for (int i = 0; i < N; i++) losses[step - 1] += (double)l[i] * w[i];
            model.Backward(acts, B, T, new BackwardSources(Logits: true));
            be.SumOfSquares(norm, model.Gradients.All, n);
            var s = new float[1];
            be.Download<float>(norm, s);
            norms[step - 1] = Math.Sqrt(s[0]);
            // eps 1e-3: Adam divides by √v, so with a tiny eps a gradient that is 0 on one backend and 1e-9 on the
            // other (rounding) moves a weight by a full lr; a larger eps keeps the comparison well conditioned.
            be.AdamWUpdate(model.Parameters.All, model.Gradients.All, m, v, n, 1e-2f, 0.9f, 0.95f, 1e-3f, 0.1f, 1f, step);
        }
        var weights = new float[n];
        be.Download<float>(model.Parameters.All, weights);
        return (losses, norms, weights);
    }

    [Test]
    public void ThreeTrainingStepsMatchTheCpuBackend()
    {
        using var cpu = new CpuBackend(2);
        var want = Train(cpu);
        var got = Train(KernelBackends.Get(KernelBackends.IlgpuCpu));
        // Float sums in another order, through 2 layers and 3 steps: relative differences of ~1e-6 (bounds: 1e-5
        // for losses, 1e-4 for norms); a wrong
        // offset or a missed accumulation changes the loss or the norm at the 1e-2 level.
        for (int s = 0; s < Steps; s++)
        {
            Assert.That(got.Losses[s], Is.EqualTo(want.Losses[s]).Within(1e-3).Percent, $"loss at step {s + 1}");
            Assert.That(got.GradNorms[s], Is.EqualTo(want.GradNorms[s]).Within(1e-2).Percent, $"gradient norm at step {s + 1}");
        }
        double worst = 0;
        for (int i = 0; i < want.Weights.Length; i++) worst = Math.Max(worst, Math.Abs(got.Weights[i] - want.Weights[i]));
        Assert.That(worst, Is.LessThan(1e-5), $"largest weight difference after three AdamW steps: {worst:g3}");
    }
}
