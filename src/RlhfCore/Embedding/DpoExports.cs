using System.Runtime.InteropServices;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Embedding;

/// <summary>rlhf_dpo_loss: the engine's DPO step (<see cref="DpoStep"/>) on pairs laid out as TRL concatenates them.</summary>
internal static unsafe class DpoExports
{
    [UnmanagedCallersOnly]
    public static int Loss(nint policy, nint reference, byte* lossName, double beta, double labelSmoothing,
        int* tokens, int* attentionMask, int* promptLengths, int pairs, int seqLen, int backward, double* loss, NativeDpoMetrics* metrics)
    {
        try
        {
            var p = HandleTable.Get<EmbeddedModel>(policy, "policy");
            var r = HandleTable.Get<EmbeddedModel>(reference, "reference");
            if (p.Owner != r.Owner) throw new ArgumentException("policy and reference must be on the same backend");
            var kind = NativeArgs.Text(lossName, "loss_name") switch
            {
                "sigmoid" => DpoLossKind.Sigmoid,
                "ipo" => DpoLossKind.Ipo,
                var other => throw new ArgumentException($"unknown DPO loss '{other}' (sigmoid, ipo)"),
            };
            var g = p.Model;
            TokenRows.CheckShape(pairs, seqLen, g.Config.MaxSeqLen, "pairs");
            long n = 2L * pairs * seqLen;
            var ids = NativeArgs.In(tokens, n, "tokens");
            var mask = NativeArgs.Optional(attentionMask, n, "attention_mask");
            var prompts = NativeArgs.In(promptLengths, pairs, "prompt_lengths");
            ref double result = ref NativeArgs.Ref(loss, "loss");
            var lengths = TokenRows.RightPaddedLengths(ids, mask, 2 * pairs, seqLen, g.Config.VocabSize);
            var examples = Examples(ids, lengths, prompts, pairs, seqLen);
            lock (p.Owner.Gate)
            {
                var key = new DpoKey(r.Model, pairs, seqLen, kind, beta, labelSmoothing);
                var ws = p.Dpo.Get(key, g, static (k, model) => new DpoWorkspace(model, k));
                ws.Batch.Fill(examples);
                var sum = new DpoMetricsSum();
                result = ws.Step.Run(ws.Batch, backward != 0, 1.0 / pairs, sum) / pairs;
                if (metrics != null)
                {
                    var mean = sum.Mean();
                    *metrics = new NativeDpoMetrics
                    {
                        Loss = mean.Loss, RewardsChosen = mean.RewardsChosen, RewardsRejected = mean.RewardsRejected,
                        RewardsAccuracy = mean.RewardsAccuracy, RewardsMargin = mean.RewardsMargin,
                        LogpsChosen = mean.LogpsChosen, LogpsRejected = mean.LogpsRejected,
                    };
                }
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_dpo_loss"); }
    }

    /// <summary>Pair i from rows i (chosen) and pairs + i (rejected), which must share their first prompt_lengths[i] tokens.</summary>
    private static List<DpoExample> Examples(ReadOnlySpan<int> ids, int[] lengths, ReadOnlySpan<int> prompts, int pairs, int T)
    {
        var examples = new List<DpoExample>(pairs);
        for (int i = 0; i < pairs; i++)
        {
            int c = i, rj = pairs + i, P = prompts[i];
            if (P < 1 || P >= lengths[c] || P >= lengths[rj])
                throw new ArgumentException($"prompt_lengths[{i}] = {P}: it must be at least 1 and shorter than both rows of the pair ({lengths[c]} and {lengths[rj]} tokens), so each completion has a token");
            var prompt = ids.Slice(c * T, P);
            int differ = prompt.CommonPrefixLength(ids.Slice(rj * T, P));
            if (differ < P) throw new ArgumentException($"pair {i}: the chosen row {c} and the rejected row {rj} differ at prompt position {differ}");
            examples.Add(new DpoExample(prompt.ToArray(), ids.Slice(c * T + P, lengths[c] - P).ToArray(),
                ids.Slice(rj * T + P, lengths[rj] - P).ToArray(), "rlhf_dpo_loss pairs", i + 1));
        }
        return examples;
    }
}
