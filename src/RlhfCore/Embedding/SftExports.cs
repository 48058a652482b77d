using System.Runtime.InteropServices;
using RlhfCore.Training.Sft;

namespace RlhfCore.Embedding;

/// <summary>rlhf_sft_loss: next-token cross-entropy and its backward, through the engine's own <see cref="LmStep"/>.</summary>
internal static unsafe class SftExports
{
    [UnmanagedCallersOnly]
    public static int Loss(nint model, int* tokens, int* targets, int* attentionMask, int batch, int seqLen,
        int gradAccumSteps, int backward, double* loss)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var g = m.Model;
            TokenRows.CheckShape(batch, seqLen, g.Config.MaxSeqLen);
            NativeArgs.AtLeast(gradAccumSteps, 1, "grad_accum_steps");
            long n = (long)batch * seqLen;
            int V = g.Config.VocabSize;
            var ids = NativeArgs.In(tokens, n, "tokens");
            var next = NativeArgs.In(targets, n, "targets");
            var mask = NativeArgs.Optional(attentionMask, n, "attention_mask");
            ref double result = ref NativeArgs.Ref(loss, "loss");
            lock (m.Owner.Gate)
            {
                var ws = m.Lm.Get((batch, seqLen), g, static (k, model) => new LmWorkspace(model, k.B, k.T));
                var x = ws.Batch;
                TokenRows.Fill(ids, mask, batch, seqLen, V, x.Tokens, x.AttentionMask, x.Positions);
                int counted = 0;
                for (int i = 0; i < n; i++)
                {
                    int target = next[i];
                    if (target < -1 || target >= V)
                        throw new ArgumentException($"targets[{i / seqLen}][{i % seqLen}] = {target}; it must be -1 (no loss) or in [0, {V})");
                    x.Targets[i] = target;
                    x.LossMask[i] = target >= 0 ? 1f : 0f;
                    if (target >= 0) counted++;
                }
                x.LossTokenCount = counted;
                result = ws.Step.Run(x, backward != 0, gradAccumSteps);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_sft_loss"); }
    }
}
