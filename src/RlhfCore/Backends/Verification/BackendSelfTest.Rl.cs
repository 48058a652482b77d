using RlhfCore.Tensors;

namespace RlhfCore.Backends.Verification;

// Cases for the ops whose CUDA kernels are hand-written PTX (fused attention, PPO loss, GAE). They compare
// the observable results — attention's output and dqkv, not the saved att buffer, whose contents a fused
// kernel may choose (for example the log-sum-exp instead of probabilities).
public sealed partial class BackendSelfTest
{
    /// <summary>Tolerance for fused attention: its tensor-core inputs may be bf16/fp16 or TF32.</summary>
    public const double AttentionTolerance = 1e-2;

    private int[] KeyMask(int B, int T)
    {
        var m = new int[B * T];
        for (int i = 0; i < m.Length; i++) m[i] = _rng.NextDouble() < 0.15 ? 0 : 1;
        return m;
    }

    private IEnumerable<SelfTestRow> Attention()
    {
        // The CUDA attention kernels take head size 64 (every GPT-2); odd batch, length and head counts vary.
        foreach (var (B, T, C, NH) in new[] { (1, 1, 64, 1), (2, 7, 128, 2), (3, 97, 192, 3), (2, 257, 128, 2), (4, 256, 768, 12) })
        {
            float[] qkv = Floats((long)B * T * 3 * C), dout = Floats((long)B * T * C);
            // The mask tensor is longer than B·T, as when a batch uses fewer rows than its arena holds.
            int[] mask = [.. KeyMask(B, T), .. Enumerable.Repeat(1, 13)];
            string shape = $"B={B} T={T} C={C} NH={NH}";
            yield return Compare("attention_forward", shape, AttentionTolerance, s =>
            {
                Tensor o = s.Poisoned(B, T, C), att = s.Poisoned(B, NH, T, T);
                s.Backend.AttentionForward(o, att, s.Upload(qkv, B, T, 3 * C), s.Upload(mask, mask.Length), B, T, C, NH);
                return [s.Read(o)];
            });
            yield return Compare("attention_backward", shape, AttentionTolerance, s =>
            {
                Tensor o = s.Poisoned(B, T, C), att = s.Poisoned(B, NH, T, T), q = s.Upload(qkv, B, T, 3 * C);
                s.Backend.AttentionForward(o, att, q, s.Upload(mask, mask.Length), B, T, C, NH);
                Tensor dq = s.Poisoned(B, T, 3 * C), datt = s.Poisoned(B, NH, T, T);
                s.Backend.AttentionBackward(dq, datt, s.Upload(dout, B, T, C), q, att, B, T, C, NH);
                return [s.Read(dq)];
            });
        }
    }

    private IEnumerable<SelfTestRow> AttentionDecode()
    {
        foreach (var (B, Tq, C, NH, maxT, past) in new[] { (1, 1, 64, 1, 4, 0), (2, 1, 128, 2, 9, 5), (3, 4, 192, 3, 97, 50), (2, 1, 768, 12, 1024, 1000) })
        {
            int hs = C / NH;
            float[] qkv = Floats((long)B * Tq * 3 * C), kc = Floats((long)B * NH * maxT * hs), vc = Floats((long)B * NH * maxT * hs);
            int[] mask = KeyMask(B, maxT);
            yield return Compare("attention_decode", $"B={B} Tq={Tq} C={C} NH={NH} maxT={maxT} past={past}", AttentionTolerance, s =>
            {
                Tensor o = s.Poisoned(B, Tq, C), k = s.Upload(kc, B, NH, maxT, hs), v = s.Upload(vc, B, NH, maxT, hs);
                s.Backend.AttentionDecodeForward(o, k, v, s.Upload(qkv, B, Tq, 3 * C), s.Upload(mask, B, maxT), past, B, Tq, C, NH, maxT);
                return [s.Read(o), s.Read(k), s.Read(v)];
            });
        }
    }

    private IEnumerable<SelfTestRow> PpoLoss()
    {
        foreach (var (N, V) in RowShapes)
        {
            float[] logits = Floats((long)N * V, -4f, 4f), adv = Floats(N, -2f, 2f), w = Mask(N, 0.2);
            int[] actions = Ints(N, 0, V);
            var oldLogp = new float[N];
            for (int n = 0; n < N; n++) oldLogp[n] = (float)(LogSoftmaxAt(logits, n, V, actions[n]) + (_rng.NextDouble() - 0.5) * 0.6);
            foreach (bool alias in new[] { false, true })
                yield return Compare(alias ? "ppo_loss_inplace" : "ppo_loss", $"N={N} V={V}", ReductionTolerance, s =>
                {
                    Tensor l = s.Upload(logits, N, V), d = alias ? l : s.Poisoned(N, V);
                    Tensor losses = s.Poisoned(N), logp = s.Poisoned(N), ent = s.Poisoned(N), clipped = s.Poisoned(N);
                    s.Backend.PpoLossForwardBackward(d, losses, logp, ent, clipped, l, s.Upload(actions), s.Upload(oldLogp), s.Upload(adv), s.Upload(w), N, V, 0.2f, 0.28f, 3f, 0.01f);
                    return [s.Read(d), s.Read(losses), s.Read(logp), s.Read(ent), s.Read(clipped)];
                });
        }
    }

    private static double LogSoftmaxAt(float[] logits, int row, int V, int at)
    {
        double m = double.NegativeInfinity, sum = 0;
        for (int v = 0; v < V; v++) m = Math.Max(m, logits[(long)row * V + v]);
        for (int v = 0; v < V; v++) sum += Math.Exp(logits[(long)row * V + v] - m);
        return logits[(long)row * V + at] - m - Math.Log(sum);
    }

    private IEnumerable<SelfTestRow> Gae()
    {
        foreach (var (B, T) in new[] { (1, 1), (3, 7), (5, 97), (16, 1025) })
        {
            float[] r = Floats((long)B * T), v = Floats((long)B * T), mask = Mask((long)B * T, 0.2);
            yield return Compare("gae_forward", $"B={B} T={T}", ReductionTolerance, s =>
            {
                Tensor a = s.Poisoned(B, T), ret = s.Poisoned(B, T), mom = s.Poisoned(3);
                s.Backend.GaeForward(a, ret, mom, s.Upload(r, B, T), s.Upload(v, B, T), s.Upload(mask, B, T), B, T, 0.99f, 0.95f);
                return [s.Read(a), s.Read(ret), s.Read(mom)];
            });
        }
    }

    private IEnumerable<SelfTestRow> MaskedNormalize()
    {
        foreach (long n in ElementwiseSizes)
        {
            float[] x = Floats(n), mask = Mask(n, 0.3);
            yield return Compare("gae_masked_normalize", $"n={n}", Fp32Tolerance, s =>
            {
                Tensor t = s.Upload(x);
                s.Backend.MaskedNormalize(t, s.Upload(mask), 0.1f, 1.7f, n);
                return [s.Read(t)];
            });
        }
    }
}
