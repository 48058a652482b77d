using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Optim;
using RlhfCore.Training;
using RlhfCore.Training.Sft;
using RlhfCore.Training.Core;

namespace RlhfCore.Tests.Optim;

/// <summary>
/// Each optimizer through the SFT trainer on a tiny model: a run cut, checkpointed (optimizer.safetensors with the
/// optimizer's own named state) and resumed equals the uninterrupted run bit for bit; the grouped optimizer on
/// AdamW alone equals <see cref="AdamW"/> bit for bit.
/// </summary>
public class OptimizerResumeTests
{
    private static readonly GptConfig Tiny = new(VocabSize: 260, MaxSeqLen: 32, NumLayers: 2, NumHeads: 2, Channels: 32);

    private static ISftBatchSource Arithmetic(SftOptions o)
    {
        var task = new RlhfCore.Data.Tasks.ArithmeticTask(MaxOperand: 10);
        var rng = new Rng(3);
        var examples = Enumerable.Range(0, 64).Select(i =>
        {
            var d = task.SampleDemonstration(rng);
            return SftExample.FromRecord(new SftRecord(d.Prompt, d.Completion, false, "mem", i + 1), ByteTokenizer.Instance, o.SeqLen, OverlongPolicy.Error, 260);
        }).ToList();
        return new SftRowBatcher(examples, o.Batch, o.SeqLen, o.Seed, ByteTokenizer.EndOfTextId);
    }

    private static SftOptions Options(OptimizerKind kind, string[] groups) => new()
    {
        Batch = 4, SeqLen = 12, Steps = 7, Lr = 3e-3f, Warmup = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5,
        Optimizer = kind, Nesterov = kind == OptimizerKind.Sgd, ParamGroup = groups,
    };

    private static float[] Read(CpuBackend be, GptModel model)
    {
        var values = new float[model.Parameters.All.Length];
        be.Download<float>(model.Parameters.All, values);
        return values;
    }

    private static void AssertBitEqual(float[] actual, float[] expected, string what)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length));
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                Assert.Fail($"{what} element {i}: {actual[i]:R}, expected {expected[i]:R}");
    }

    [TestCase(OptimizerKind.AdamW, new string[0])]
    [TestCase(OptimizerKind.Sgd, new string[0])]
    [TestCase(OptimizerKind.Lion, new string[0])]
    [TestCase(OptimizerKind.Muon, new string[0])]
    [TestCase(OptimizerKind.Adafactor, new string[0])]
    [TestCase(OptimizerKind.Adafactor, new[] { "h.*:adafactor_beta1=0.9,adafactor_scale_parameter=1" })]
    [TestCase(OptimizerKind.AdamW, new[] { "h.*.attn.*:optimizer=lion,lr=0.3", "wte:optimizer=sgd,lr=2,weight_decay=0.01" })]
    public void ResumedRunEqualsUninterruptedRunBitForBit(OptimizerKind kind, string[] groups)
    {
        const int stopAt = 3;
        var o = Options(kind, groups);
        using var be = new CpuBackend(2);

        float[] straight, initial;
        using (var model = new GptModel(be, Tiny))
        {
            model.InitializeWeights(o.Seed);
            initial = Read(be, model);
            using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
            trainer.Run(CancellationToken.None, _ => { }, _ => { });
            straight = Read(be, model);
        }
        Assert.That(straight, Is.Not.EqualTo(initial), "the run must move the weights");

        string dir = Path.Combine(Path.GetTempPath(), "rlhf-optim-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new CheckpointStore(dir);
            using (var model = new GptModel(be, Tiny))
            {
                model.InitializeWeights(o.Seed);
                using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
                using var cancel = new CancellationTokenSource();
                trainer.Run(cancel.Token, r => { if (r.Step + 1 == stopAt) cancel.Cancel(); }, _ => { });
                store.Save(model, trainer.Optimizer, trainer.CaptureState());
            }
            using (var model = new GptModel(be, Tiny))
            {
                using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
                trainer.RestoreState(store.Load(model, trainer.Optimizer));
                trainer.Run(CancellationToken.None, _ => { }, _ => { });
                AssertBitEqual(Read(be, model), straight, "resumed parameter");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void ResumeWithAnotherOptimizer_NamesTheMissingState()
    {
        using var be = new CpuBackend(2);
        string dir = Path.Combine(Path.GetTempPath(), "rlhf-optim-switch-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new CheckpointStore(dir);
            using var model = new GptModel(be, Tiny);
            model.InitializeWeights(1);
            using (var adam = new GroupedOptimizer(model.Parameters, model.Gradients, OptimizerConfig.PlainAdamW(new AdamWOptions())))
                store.Save(model, adam, new TrainerState(1, 1, default, null, 0));
            var lion = OptimizerConfig.PlainAdamW(new AdamWOptions()) with { Kind = OptimizerKind.Lion };
            using var other = new GroupedOptimizer(model.Parameters, model.Gradients, lion);
            var e = Assert.Throws<RlhfCore.IO.CheckpointException>(() => store.Load(model, other))!;
            Assert.That(e.Message, Does.Contain("missing tensor 'lion.m.wte.weight'"));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [TestCase(OptimizerKind.AdamW), TestCase(OptimizerKind.Sgd), TestCase(OptimizerKind.Lion), TestCase(OptimizerKind.Muon), TestCase(OptimizerKind.Adafactor)]
    public void GroupLrMultiplier_ScalesThatGroupOnly(OptimizerKind kind)
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(9);
        var before = Read(be, model);
        var grad = new float[model.Gradients.All.Length];
        var rng = new Rng(6);
        for (int i = 0; i < grad.Length; i++) grad[i] = (float)(rng.NextDouble() - 0.5);
        be.Upload<float>(model.Gradients.All, grad);
        var config = OptimizerConfig.PlainAdamW(new AdamWOptions()) with { Kind = kind, Groups = [ParameterGroup.Parse("wte:lr=0"), ParameterGroup.Parse("wpe:lr=1")] };
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
        opt.Update(1e-2f);
        var after = Read(be, model);
        long wte = model.Parameters.Offsets[model.Parameters.IndexOf("wte.weight")] / 4, wpe = model.Parameters.Offsets[model.Parameters.IndexOf("wpe.weight")] / 4;
        int nWte = (int)model.Parameters.Specs[model.Parameters.IndexOf("wte.weight")].Length;
        Assert.That(after.AsSpan((int)wte, nWte).ToArray(), Is.EqualTo(before.AsSpan((int)wte, nWte).ToArray()), "lr=0 leaves wte as it was");
        Assert.That(after[wpe], Is.Not.EqualTo(before[wpe]), "wpe (lr multiplier 1) moves");
    }

    // One Muon step from zero momentum on the tall c_fc weight [4C, C] (scale √4 = 2) and the wide c_proj [C, 4C]
    // (scale 1), against float64: buf = (1 − μ)·gs·g; u = (1 − μ)·gs·g + μ·buf; p' = (1 − lr·wd)·p − lr·scale·NS(u).
    [TestCase("h.0.mlp.c_fc.weight"), TestCase("h.1.mlp.c_proj.weight")]
    public void MuonStep_MatchesReference(string tensor)
    {
        const float lr = 0.02f, gradScale = 0.5f, wd = 0.1f, mu = 0.95f;
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(9);
        var rng = new Rng(8);
        var grad = new float[model.Gradients.All.Length];
        for (int i = 0; i < grad.Length; i++) grad[i] = (float)(rng.NextDouble() - 0.5);
        be.Upload<float>(model.Gradients.All, grad);
        int index = model.Parameters.IndexOf(tensor);
        var spec = model.Parameters.Specs[index];
        var p0 = new float[spec.Length];
        be.Download<float>(model.Parameters.Tensors[index], p0);
        var g = new float[spec.Length];
        be.Download<float>(model.Gradients.Tensors[index], g);

        var config = OptimizerConfig.PlainAdamW(new AdamWOptions(WeightDecay: wd)) with { Kind = OptimizerKind.Muon, Muon = new MuonOptions(mu) };
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
        Assert.That(opt.Rules[index].Optimizer, Is.EqualTo(OptimizerKind.Muon));
        opt.Update(lr, gradScale);
        var actual = new float[spec.Length];
        be.Download<float>(model.Parameters.Tensors[index], actual);

        int rows = spec.Shape[0], cols = spec.Shape[1];
        var u = g.Select(v => (1 - mu) * gradScale * (double)v + mu * (1 - mu) * gradScale * v).ToArray();
        var o = RlhfCore.Tests.Reference.NewtonSchulzReference.Orthogonalize(u, rows, cols, NewtonSchulz.A, NewtonSchulz.B, NewtonSchulz.C, NewtonSchulz.Steps);
        double scale = Math.Sqrt(Math.Max(1.0, (double)rows / cols));
        var expected = p0.Select((p, i) => (1 - lr * wd) * p - lr * scale * o[i]).ToArray();
        KernelTestUtil.AssertClose(actual, expected, 2e-6, 1e-4, tensor);
    }

    // Updates after the first few (scratch grown, JIT settled) allocate nothing on the calling thread, for every rule, Adafactor's
    // four passes included; the model is large enough that the CPU kernels split over the worker pool.
    [TestCase(OptimizerKind.AdamW), TestCase(OptimizerKind.Sgd), TestCase(OptimizerKind.Lion), TestCase(OptimizerKind.Adafactor)]
    public void Update_AllocatesNothing(OptimizerKind kind)
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 64, NumLayers: 2, NumHeads: 2, Channels: 256));
        model.InitializeWeights(1);
        var grad = new float[model.Gradients.All.Length];
        var rng = new Rng(1);
        for (int i = 0; i < grad.Length; i++) grad[i] = (float)(rng.NextDouble() - 0.5);
        be.Upload<float>(model.Gradients.All, grad);
        var config = OptimizerConfig.PlainAdamW(new AdamWOptions()) with { Kind = kind, Groups = kind == OptimizerKind.Adafactor ? [ParameterGroup.Parse("h.*:adafactor_beta1=0.9")] : [] };
        using var opt = new GroupedOptimizer(model.Parameters, model.Gradients, config);
        long before = 0;
        for (int step = 0; step < 8; step++)
        {
            if (step == 5) before = GC.GetAllocatedBytesForCurrentThread();
            opt.Update(1e-3f, 0.5f);
        }
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void GroupedAdamW_EqualsAdamW_BitForBit()
    {
        using var be = new CpuBackend(2);
        using var a = new GptModel(be, Tiny);
        using var b = new GptModel(be, Tiny);
        a.InitializeWeights(9);
        b.InitializeWeights(9);
        var rng = new Rng(4);
        var grad = new float[a.Gradients.All.Length];
        using var plain = new AdamW(a.Parameters, a.Gradients, new AdamWOptions(WeightDecay: 0.1f));
        using var grouped = new GroupedOptimizer(b.Parameters, b.Gradients, OptimizerConfig.PlainAdamW(new AdamWOptions(WeightDecay: 0.1f)));
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < grad.Length; i++) grad[i] = (float)(rng.NextDouble() - 0.5);
            be.Upload<float>(a.Gradients.All, grad);
            be.Upload<float>(b.Gradients.All, grad);
            plain.Update(1e-2f, 0.5f);
            grouped.Update(1e-2f, 0.5f);
        }
        AssertBitEqual(Read(be, b), Read(be, a), "parameter");
        Assert.That(grouped.State.Select(s => s.Name), Is.EqualTo(plain.State.Select(s => s.Name)), "checkpoint names stay adam.m./adam.v.");
    }
}
