using System.Runtime.InteropServices;
using RlhfCore.Model;

namespace RlhfCore.Embedding;

/// <summary>rlhf_model_forward and rlhf_model_zero_grad.</summary>
internal static unsafe class ForwardExports
{
    [UnmanagedCallersOnly]
    public static int Forward(nint model, int* tokens, int* attentionMask, int batch, int seqLen, float* logits)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var g = m.Model;
            TokenRows.CheckShape(batch, seqLen, g.Config.MaxSeqLen);
            long n = (long)batch * seqLen, V = g.Config.VocabSize;
            var ids = NativeArgs.In(tokens, n, "tokens");
            var mask = NativeArgs.Optional(attentionMask, n, "attention_mask");
            var output = NativeArgs.Out(logits, n * V, "logits");
            lock (m.Owner.Gate)
            {
                var ws = m.Lm.Get((batch, seqLen), g, static (k, model) => new LmWorkspace(model, k.B, k.T));
                var x = ws.Batch;
                TokenRows.Fill(ids, mask, batch, seqLen, g.Config.VocabSize, x.Tokens, x.AttentionMask, x.Positions);
                var a = ws.Step.Activations;
                var be = g.Backend;
                be.Upload<int>(a.Tokens, x.Tokens);
                be.Upload<int>(a.Positions, x.Positions);
                be.Upload<int>(a.KeyMask, x.AttentionMask);
                g.Forward(a, batch, seqLen);
                be.Download<float>(GptModel.Rows(a.Logits, (int)n, (int)V), output);
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_forward"); }
    }

    [UnmanagedCallersOnly]
    public static int ZeroGrad(nint model)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            lock (m.Owner.Gate) m.Model.ZeroGradients();
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_model_zero_grad"); }
    }
}
