using System.Text;
using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Embedding;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Sft;

namespace RlhfCore.Tests.Embedding;

/// <summary>
/// The entry points called in-process through unmanaged function pointers, as the C shim calls them: once
/// its workspace exists, a training step through the C API (zero_grad, sft_loss with backward, optimizer
/// step) allocates exactly what the same step allocates when written against the engine's classes, so the
/// API layer adds nothing per step.
/// </summary>
[TestFixture, NonParallelizable]
public sealed unsafe class EntryPointAllocationTests
{
    [Test]
    public void SftTrainingStep_AllocatesNoMoreThanTheEngineItself()
    {
        delegate* unmanaged<byte*, int, nint*, int> createBackend = &BackendExports.Create;
        delegate* unmanaged<nint, byte*, uint, ulong, nint*, int> createModel = &ModelExports.CreatePreset;
        delegate* unmanaged<nint, byte*, byte*, nint*, int> createOptimizer = &OptimizerExports.Create;
        delegate* unmanaged<nint, int> zeroGrad = &ForwardExports.ZeroGrad;
        delegate* unmanaged<nint, int*, int*, int*, int, int, int, int, double*, int> sftLoss = &SftExports.Loss;
        delegate* unmanaged<nint, float, float, float*, int> step = &OptimizerExports.Step;
        delegate* unmanaged<nint, int> destroyOptimizer = &OptimizerExports.Destroy;
        delegate* unmanaged<nint, int> destroyModel = &ModelExports.Destroy;
        delegate* unmanaged<nint, int> destroyBackend = &BackendExports.Destroy;

        nint backend, model, optimizer;
        fixed (byte* cpu = "cpu\0"u8, preset = "byte-tiny\0"u8, adamw = "adamw\0"u8)
        {
            Assert.That(createBackend(cpu, 1, &backend), Is.Zero, EmbeddingErrors.LastError);
            Assert.That(createModel(backend, preset, 0, 1, &model), Is.Zero, EmbeddingErrors.LastError);
            Assert.That(createOptimizer(model, adamw, null, &optimizer), Is.Zero, EmbeddingErrors.LastError);
        }
        const int T = 32;
        int* tokens = stackalloc int[T + 1];
        byte[] text = Encoding.ASCII.GetBytes("allocation-free steps, one by one");
        for (int i = 0; i <= T; i++) tokens[i] = text[i];
        double loss = double.NaN;
        long before = 0;
        int failures = 0;
        for (int i = 0; i < 13; i++)
        {
            if (i == 3) before = GC.GetAllocatedBytesForCurrentThread(); // after the workspace is built and the JIT has settled
            failures += zeroGrad(model) != 0 ? 1 : 0;
            failures += sftLoss(model, tokens, tokens + 1, null, 1, T, 1, 1, &loss) != 0 ? 1 : 0;
            failures += step(optimizer, 1e-3f, 1f, null) != 0 ? 1 : 0;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(failures, Is.Zero, EmbeddingErrors.LastError);
        Assert.That(destroyOptimizer(optimizer), Is.Zero);
        Assert.That(destroyModel(model), Is.Zero);
        Assert.That(destroyBackend(backend), Is.Zero);
        Assert.That(allocated, Is.EqualTo(EngineStepBytes(text, T)), "bytes allocated by 10 training steps through the entry points vs the engine's own");
        Assert.That(double.IsFinite(loss));
    }

    /// <summary>What 10 steps allocate written directly against LmStep, GradientClipper and AdamW (after 3 to warm up).</summary>
    private static long EngineStepBytes(byte[] text, int T)
    {
        using var backend = new CpuBackend(1);
        using var model = new GptModel(backend, GptConfig.Preset("byte-tiny"));
        var batch = new SftBatch(1, T);
        new PackedStreamBatcher(text.Take(T + 1).Select(b => (int)b).ToArray(), 1, T, 260, seed: 1, shuffle: false).Next(batch);
        var step = new LmStep(model, 1, T);
        using var activations = step.Activations;
        using var adamW = new AdamW(model.Parameters, model.Gradients, new AdamWOptions());
        using var clipper = new GradientClipper(backend);
        long before = 0;
        for (int i = 0; i < 13; i++)
        {
            if (i == 3) before = GC.GetAllocatedBytesForCurrentThread();
            model.ZeroGradients();
            step.Run(batch, backward: true);
            adamW.Update(1e-3f, GradientClipper.ClipScale(clipper.GlobalNorm(model.Gradients.All), 1f));
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
