using RlhfCore.Backends.Cpu;
using RlhfCore.Data;
using RlhfCore.Model;
using RlhfCore.Training;
using RlhfCore.Training.Sft;

namespace RlhfCore.Tests.Training;

/// <summary>The SFT trainer end to end on tiny models: it learns, and a resumed run equals an uninterrupted one.</summary>
public class SftTrainerTests
{
    private static readonly GptConfig Tiny = new(VocabSize: 260, MaxSeqLen: 32, NumLayers: 2, NumHeads: 2, Channels: 32);

    private static ISftBatchSource Packed(string text, SftOptions o)
    {
        var example = SftExample.FromRecord(new SftRecord("", text, IsPlainText: true, "mem", 1), ByteTokenizer.Instance, 1 << 20, OverlongPolicy.Truncate, 260);
        return new PackedStreamBatcher(PackedStreamBatcher.BuildStream([example]), o.Batch, o.SeqLen, 260, o.Seed);
    }

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

    [Test]
    public void TinyModelOverfitsAShortText()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(1);
        var o = new SftOptions { Batch = 8, SeqLen = 16, Steps = 250, Lr = 1e-2f, Warmup = 10, WeightDecay = 0, EvalEvery = 0, CheckpointEvery = 0 };
        using var trainer = new SftTrainer(model, Packed("the quick brown fox jumps over the lazy dog. ", o), null, o);
        var losses = new List<double>();
        trainer.Run(CancellationToken.None, r => losses.Add(r.Loss), _ => { });
        Assert.That(losses[0], Is.GreaterThan(4.0), "starts near log(260) = 5.56");
        Assert.That(losses.TakeLast(10).Average(), Is.LessThan(0.05), $"final losses: {string.Join(", ", losses.TakeLast(10).Select(l => l.ToString("F3")))}");
    }

    [Test]
    public void ResumedRunEqualsUninterruptedRunBitForBit()
    {
        const int total = 9, stopAt = 4;
        var o = new SftOptions { Batch = 4, SeqLen = 12, Steps = total, Lr = 3e-3f, Warmup = 2, GradAccum = 2, EvalEvery = 0, CheckpointEvery = 0, Seed = 5 };
        using var be = new CpuBackend(2);

        float[] straight;
        using (var model = new GptModel(be, Tiny))
        {
            model.InitializeWeights(o.Seed);
            using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
            trainer.Run(CancellationToken.None, _ => { }, _ => { });
            straight = Read(be, model);
        }

        string dir = Path.Combine(Path.GetTempPath(), "rlhf-resume-" + Guid.NewGuid().ToString("N"));
        try
        {
            var store = new CheckpointStore(dir);
            using (var model = new GptModel(be, Tiny))
            {
                model.InitializeWeights(o.Seed);
                using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
                using var cancel = new CancellationTokenSource();
                trainer.Run(cancel.Token, r => { if (r.Step + 1 == stopAt) cancel.Cancel(); }, _ => { });
                Assert.That(trainer.StepsDone, Is.EqualTo(stopAt));
                store.Save(model, trainer.Optimizer, trainer.CaptureState());
            }
            using (var model = new GptModel(be, Tiny))
            {
                using var trainer = new SftTrainer(model, Arithmetic(o), null, o);
                trainer.RestoreState(store.Load(model, trainer.Optimizer));
                Assert.That(trainer.StepsDone, Is.EqualTo(stopAt));
                trainer.Run(CancellationToken.None, _ => { }, _ => { });
                var resumed = Read(be, model);
                Assert.That(resumed.Length, Is.EqualTo(straight.Length));
                for (int i = 0; i < straight.Length; i++)
                    if (BitConverter.SingleToInt32Bits(resumed[i]) != BitConverter.SingleToInt32Bits(straight[i]))
                        Assert.Fail($"parameter element {i}: resumed {resumed[i]:R}, straight {straight[i]:R}");
            }
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void NonFiniteLossSkipsTheStepAndLeavesWeightsUntouched()
    {
        using var be = new CpuBackend(2);
        using var model = new GptModel(be, Tiny);
        model.InitializeWeights(2);
        // Poison one parameter so every forward pass produces NaN logits.
        var wpe = new float[model.Parameters["wpe.weight"].Length];
        be.Download<float>(model.Parameters["wpe.weight"], wpe);
        wpe[0] = float.NaN;
        be.Upload<float>(model.Parameters["wpe.weight"], wpe);
        var before = Read(be, model);
        var o = new SftOptions { Batch = 2, SeqLen = 8, Steps = 3, EvalEvery = 0, CheckpointEvery = 0 };
        using var trainer = new SftTrainer(model, Packed("abcdefghijklmnopqrstuvwxyz", o), null, o);
        var reports = new List<SftStepReport>();
        trainer.Run(CancellationToken.None, reports.Add, _ => { });
        Assert.That(reports.All(r => r.Skipped), Is.True);
        Assert.That(trainer.StepsSkipped, Is.EqualTo(3));
        var after = Read(be, model);
        for (int i = 0; i < before.Length; i++)
            Assert.That(BitConverter.SingleToInt32Bits(after[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(before[i])), $"element {i} changed");
    }

    private static float[] Read(CpuBackend be, GptModel model)
    {
        var all = new float[model.Parameters.All.Length];
        be.Download<float>(model.Parameters.All, all);
        return all;
    }
}
