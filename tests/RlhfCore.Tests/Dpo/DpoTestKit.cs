using RlhfCore.Backends.Cpu;
using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Tests.IO;
using RlhfCore.Training;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Tests.Dpo;

/// <summary>What the DPO-family trainer tests share: the tiny model, a stopped-and-resumed run beside an uninterrupted one, and an SFT file for CLI runs.</summary>
internal static class DpoTestKit
{
    /// <summary>The tiny policy every DPO-family test trains.</summary>
    public static readonly GptConfig Config = new(VocabSize: 260, MaxSeqLen: 12, NumLayers: 1, NumHeads: 2, Channels: 16);

    /// <summary>A model of <see cref="Config"/> initialized from <paramref name="seed"/>.</summary>
    public static GptModel Model(CpuBackend be, ulong seed)
    {
        var m = new GptModel(be, Config);
        m.InitializeWeights(seed);
        return m;
    }

    /// <summary>
    /// Trains <paramref name="train"/> straight through, then again stopped after step 1, checkpointed, and resumed
    /// into a differently initialized policy; returns both runs' losses and final parameters. With
    /// <paramref name="withReference"/> every run has the same reference model; without, none (ORPO, SimPO).
    /// </summary>
    public static (List<double> StraightLosses, float[] Straight, List<double> ResumedLosses, float[] Resumed) StraightAndResumed(
        DpoOptions o, List<DpoExample> train, bool withReference)
    {
        var straightLosses = new List<double>();
        float[] straight;
        using (var be = new CpuBackend(2))
        using (var policy = Model(be, 3))
        using (var reference = withReference ? Model(be, 4) : null)
        using (var t = new DpoTrainer(policy, reference, train, null, o))
        {
            t.Run(CancellationToken.None, r => straightLosses.Add(r.Train.Loss), _ => { });
            straight = RlhfCore.Tests.Rl.RlTestKit.Parameters(policy);
        }
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.Path);
        var losses = new List<double>();
        using (var be = new CpuBackend(2))
        using (var policy = Model(be, 3))
        using (var reference = withReference ? Model(be, 4) : null)
        using (var t = new DpoTrainer(policy, reference, train, null, o))
        using (var cancel = new CancellationTokenSource())
        {
            t.Run(cancel.Token, r => { losses.Add(r.Train.Loss); if (r.Step == 1) cancel.Cancel(); }, _ => { });
            store.Save(policy, t.Optimizer, t.CaptureState());
        }
        using (var be = new CpuBackend(2))
        using (var policy = Model(be, 9))
        using (var reference = withReference ? Model(be, 4) : null)
        using (var t = new DpoTrainer(policy, reference, train, null, o))
        {
            t.RestoreState(store.Load(policy, t.Optimizer));
            t.Run(CancellationToken.None, r => losses.Add(r.Train.Loss), _ => { });
            return (straightLosses, straight, losses, RlhfCore.Tests.Rl.RlTestKit.Parameters(policy));
        }
    }

    /// <summary>Writes a tiny randomly initialized SFT model (context 40) to <c>sft.safetensors</c> in <paramref name="dir"/> for CLI runs; returns its path.</summary>
    public static string SaveTinySft(TempDir dir)
    {
        using var be = new CpuBackend(1);
        using var sft = new GptModel(be, new GptConfig(VocabSize: 260, MaxSeqLen: 40, NumLayers: 1, NumHeads: 2, Channels: 16));
        sft.InitializeWeights(1);
        string path = dir.File("sft.safetensors");
        Gpt2Checkpoint.Save(path, sft.Config, sft.Heads, sft.Parameters);
        return path;
    }
}
