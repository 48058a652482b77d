using System.Runtime.InteropServices;
using RlhfCore.Feedback;
using RlhfCore.Model;
using RlhfCore.Training.Reward;

namespace RlhfCore.Embedding;

/// <summary>
/// rlhf_reward_loss: scores rows with the reward head, takes one of the engine's reward losses
/// (<see cref="RewardStep.Objective"/>) and backpropagates its gradient from the reward head's output.
/// </summary>
internal static unsafe class RewardExports
{
    [UnmanagedCallersOnly]
    public static int Loss(nint model, byte* lossName, int* tokens, int* attentionMask, int rows, int seqLen,
        float* values, int backward, double* loss, float* scores)
    {
        try
        {
            var m = HandleTable.Get<EmbeddedModel>(model, "model");
            var g = m.Model;
            if (!g.Heads.HasFlag(ModelHeads.Reward)) throw new ArgumentException("the model has no reward head: create it with RLHF_HEAD_REWARD");
            var kind = Kind(NativeArgs.Text(lossName, "loss_name"));
            TokenRows.CheckShape(rows, seqLen, g.Config.MaxSeqLen, "rows");
            if (kind == RewardLoss.BradleyTerry && rows % 2 != 0) throw new ArgumentException($"bradley-terry needs pairs of rows (chosen, rejected); rows = {rows} is odd");
            long n = (long)rows * seqLen;
            var ids = NativeArgs.In(tokens, n, "tokens");
            var mask = NativeArgs.Optional(attentionMask, n, "attention_mask");
            var targets = kind == RewardLoss.BradleyTerry ? NativeArgs.Optional(values, rows / 2, "values") : NativeArgs.In(values, rows, "values");
            ref double result = ref NativeArgs.Ref(loss, "loss");
            var lengths = TokenRows.RightPaddedLengths(ids, mask, rows, seqLen, g.Config.VocabSize);
            var examples = Examples(kind, ids, lengths, seqLen, targets);
            lock (m.Owner.Gate)
            {
                var ws = m.Reward.Get((rows, seqLen), g, static (k, model) => new RewardWorkspace(model, k.Rows, k.T));
                var batch = ws.Batch;
                batch.Clear();
                foreach (var example in examples) batch.Add(example);
                var s = ws.Step.Score(batch);
                if (scores != null) for (int i = 0; i < rows; i++) scores[i] = (float)s[i];
                result = RewardStep.Objective(kind, 0, s, batch, ws.Gradient.AsSpan(0, rows));
                if (backward != 0)
                {
                    if (!double.IsFinite(result)) throw new NonFiniteException($"the loss is {result}: no gradient was accumulated");
                    for (int i = 0; i < rows; i++) ws.HostGradient[i] = (float)ws.Gradient[i];
                    var a = ws.Step.Activations;
                    g.Backend.Upload<float>(a.DRewards.Slice(0, rows), ws.HostGradient);
                    g.Backward(a, rows, seqLen, new BackwardSources(Logits: false, Rewards: true));
                }
            }
            return 0;
        }
        catch (Exception e) { return EmbeddingErrors.Fail(e, "rlhf_reward_loss"); }
    }

    private static RewardLoss Kind(string name) => name switch
    {
        "bradley-terry" => RewardLoss.BradleyTerry,
        "regression" => RewardLoss.Regression,
        "logistic" => RewardLoss.Logistic,
        _ => throw new ArgumentException($"unknown reward loss '{name}' (bradley-terry, regression, logistic)"),
    };

    /// <summary>The rows as the engine's reward examples: pairs of consecutive rows, or one row each.</summary>
    private static List<RewardExample> Examples(RewardLoss kind, ReadOnlySpan<int> ids, int[] lengths, int T, ReadOnlySpan<float> values)
    {
        var examples = new List<RewardExample>();
        int rows = lengths.Length;
        if (kind == RewardLoss.BradleyTerry)
        {
            for (int p = 0; p < rows / 2; p++)
            {
                double margin = values.IsEmpty ? 0 : values[p];
                if (!double.IsFinite(margin)) throw new ArgumentException($"values[{p}] (the margin of pair {p}) is {margin}");
                examples.Add(RewardExample.Pair(Row(ids, 2 * p, lengths, T), Row(ids, 2 * p + 1, lengths, T), margin, $"pair {p}"));
            }
            return examples;
        }
        for (int r = 0; r < rows; r++)
        {
            double v = values[r];
            if (!double.IsFinite(v)) throw new ArgumentException($"values[{r}] is {v}");
            if (kind == RewardLoss.Logistic && v is not (0 or 1)) throw new ArgumentException($"values[{r}] = {v}: a logistic label must be 0 or 1");
            var feedback = kind == RewardLoss.Regression ? FeedbackKind.Ratings : FeedbackKind.Approvals;
            examples.Add(new RewardExample(feedback, [Row(ids, r, lengths, T)], v, 0, $"row {r}"));
        }
        return examples;
    }

    private static int[] Row(ReadOnlySpan<int> ids, int row, int[] lengths, int T) => ids.Slice(row * T, lengths[row]).ToArray();
}
