using System.Runtime.InteropServices;
using RlhfCore.Model;

namespace RlhfCore.Embedding;

/// <summary>rlhf_generate: batched sampling with the engine's KV-cache generator (<see cref="GptGenerator"/>).</summary>
internal static unsafe class GenerateExports
{
    [UnmanagedCallersOnly]
    public static int Generate(nint model, int* prompts, int* promptLengths, int batch, int promptStride,
        NativeSampling* sampling, int* outTokens, int* outLengths)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var g = m.Model;
            NativeArgs.AtLeast(batch, 1, "batch");
            NativeArgs.AtLeast(promptStride, 1, "prompt_stride");
            var s = NativeArgs.Ref(sampling, "sampling");
            if (s.EosToken < -1 || s.EosToken >= g.Config.VocabSize)
                throw new ArgumentException($"sampling.eos_token = {s.EosToken}; it must be -1 (none) or in [0, {g.Config.VocabSize})");
            var options = new SamplingOptions(s.MaxNewTokens, s.Temperature, s.TopK, s.TopP, s.EosToken < 0 ? null : s.EosToken).Validate();
            var ids = NativeArgs.In(prompts, (long)batch * promptStride, "prompts");
            var lengths = NativeArgs.In(promptLengths, batch, "prompt_lengths");
            var tokensOut = NativeArgs.Out(outTokens, (long)batch * s.MaxNewTokens, "out_tokens");
            var lengthsOut = NativeArgs.Out(outLengths, batch, "out_lengths");
            var rows = new int[batch][];
            for (int b = 0; b < batch; b++)
            {
                if (lengths[b] < 1 || lengths[b] > promptStride)
                    throw new ArgumentException($"prompt_lengths[{b}] = {lengths[b]}; it must be in [1, prompt_stride = {promptStride}]");
                rows[b] = ids.Slice(b * promptStride, lengths[b]).ToArray();
            }
            int longest = rows.Max(r => r.Length);
            if (longest >= g.Config.MaxSeqLen)
                throw new ArgumentException($"a prompt of {longest} tokens leaves no room in the model's context of {g.Config.MaxSeqLen}");
            lock (m.Owner.Gate)
            {
                var generator = m.Generator.Get((batch, longest), g, static (k, model) => new GptGenerator(model, k.B, k.P));
                var result = generator.Generate(rows, options, new Rng(s.Seed));
                tokensOut.Fill(-1);
                for (int b = 0; b < batch; b++)
                {
                    result[b].Tokens.CopyTo(tokensOut.Slice(b * s.MaxNewTokens));
                    lengthsOut[b] = result[b].Tokens.Length;
                }
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_generate"); }
    }
}
