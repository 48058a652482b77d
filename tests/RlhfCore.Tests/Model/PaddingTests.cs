using RlhfCore.Backends.Cpu;
using RlhfCore.Model;

namespace RlhfCore.Tests.Model;

/// <summary>
/// A sequence's outputs must not depend on what else is in the batch, on its padding, or on what follows
/// it (causality): the same prefix gives the same logits and values whether it is followed by real tokens
/// (row 0) or by padding (row 1), and equals the prefix run alone.
/// </summary>
public class PaddingTests
{
    [Test]
    public void PrefixOutputsMatchThePrefixAlone()
    {
        using var be = new CpuBackend(2);
        var cfg = TinyModels.Config;
        using var model = new GptModel(be, cfg, ModelHeads.Value | ModelHeads.Reward);
        TinyModels.RandomizeParameters(model, seed: 31);
        int T = 9, V = cfg.VocabSize;
        int[] seq = [3, 1, 4, 1, 5];
        using var batch = new GptActivations(be, cfg, 2, T);
        var tokens = new int[2 * T];
        for (int t = 0; t < T; t++) tokens[t] = t < seq.Length ? seq[t] : (t * 7 + 2) % V;  // real continuation
        for (int t = 0; t < T; t++) tokens[T + t] = t < seq.Length ? seq[t] : 12;            // junk under padding
        TinyModels.UploadBatch(be, batch, tokens, [T, seq.Length], T);
        model.Forward(batch, 2, T);

        using var alone = new GptActivations(be, cfg, 1, seq.Length);
        TinyModels.UploadBatch(be, alone, seq, [seq.Length], seq.Length);
        model.Forward(alone, 1, seq.Length);

        var bl = new float[batch.Logits.Length]; be.Download<float>(batch.Logits, bl);
        var al = new float[alone.Logits.Length]; be.Download<float>(alone.Logits, al);
        var bv = new float[batch.Values.Length]; be.Download<float>(batch.Values, bv);
        var av = new float[alone.Values.Length]; be.Download<float>(alone.Values, av);
        for (int row = 0; row < 2; row++)
            for (int t = 0; t < seq.Length; t++)
            {
                for (int v = 0; v < V; v++)
                    Assert.That(bl[(row * T + t) * V + v], Is.EqualTo(al[t * V + v]).Within(1e-5f), $"row {row} position {t} token {v}");
                Assert.That(bv[row * T + t], Is.EqualTo(av[t]).Within(1e-5f), $"row {row} value at {t}");
            }
        var br = new float[2]; be.Download<float>(batch.Rewards.Slice(0, 2, [2, 1]), br);
        var ar = new float[1]; be.Download<float>(alone.Rewards.Slice(0, 1, [1, 1]), ar);
        Assert.That(br[1], Is.EqualTo(ar[0]).Within(1e-5f), "reward at the padded row's last real token");
    }
}
