using RlhfCore.IO;
using RlhfCore.Model;
using RlhfCore.Training.Dpo;

namespace RlhfCore.Training.Pipeline;

/// <summary>The KL to the SFT policy that every round's evaluation reports, whatever the method.</summary>
public sealed partial class RlhfPipeline
{
    /// <summary>Evaluation prompts sampled to measure a round's KL to SFT.</summary>
    private const int SampledKlPrompts = 200;

    /// <summary>
    /// Rows every decoding of the pipeline serves at once: <see cref="GoldEvaluation.Run"/>'s batch, this KL measurement's, and
    /// so the rows an ILQL round's heads are loaded for.
    /// </summary>
    private const int DecodingRows = GoldEvaluation.DefaultBatch;

    /// <summary>
    /// KL(π ‖ π_SFT) per sequence, estimated on completions the round's policy samples at temperature 1 for the first
    /// <see cref="SampledKlPrompts"/> evaluation prompts: the mean over them of Σ_t log π(a_t) − log π_SFT(a_t), π being the
    /// softmax of the logits the policy decodes with (shifted by <paramref name="shaper"/> for ILQL); also the gold reward of
    /// those samples. Every method gets this one measure, so the preference losses, whose stage has no rollouts, and the RL
    /// methods, whose rollout KL is a per-step estimate on training prompts, compare on the same prompts.
    /// </summary>
    internal (double Kl, double Gold) SampledKl(int r, GptModel policy, ILogitsShaper? shaper)
    {
        using var sft = ModelFiles.Load(SftModel, _be);
        var prompts = _evalPrompts.Take(SampledKlPrompts).ToArray();
        var encoded = prompts.Select(p => p.Length == 0 ? [_tok.EndOfText] : _tok.Encode(p)).ToArray();
        int maxPrompt = encoded.Max(e => e.Length), V = policy.Config.VocabSize;
        int maxNew = Math.Min(_task.MaxCompletionChars + 1, policy.Config.MaxSeqLen - maxPrompt);
        using var gen = new GptGenerator(policy, DecodingRows, maxPrompt);
        var rng = new Rng(Seed(r, 21));
        double kl = 0, gold = 0;
        for (int start = 0; start < prompts.Length; start += DecodingRows)
        {
            var chunk = encoded[start..Math.Min(prompts.Length, start + DecodingRows)];
            var steps = new List<float[]>();
            var seqs = gen.Generate(chunk, new SamplingOptions(maxNew, 1f, EosToken: _tok.EndOfText), rng, (_, t) =>
            {
                var host = new float[t.Length];
                _be.Download<float>(t, host);
                steps.Add(host);
            }, shaper);
            var examples = new List<DpoExample>(chunk.Length);
            for (int b = 0; b < chunk.Length; b++)
            {
                for (int s = 0; s < seqs[b].Tokens.Length; s++) kl += LogSoftmaxAt(steps[s].AsSpan(b * V, V), seqs[b].Tokens[s]);
                examples.Add(new DpoExample(chunk[b], seqs[b].Tokens, seqs[b].Tokens));
                gold += _task.GoldReward(prompts[start + b], _tok.Decode([.. seqs[b].Tokens.Where(t => t != _tok.EndOfText)]));
            }
            int T = examples.Max(e => e.InputLength(e.Chosen));
            var batch = new DpoBatch(chunk.Length, T);
            batch.Fill(examples);
            using var logProbs = new SequenceLogProbs(_be, sft.Config, 2 * chunk.Length, T);
            logProbs.Upload(batch);
            var sftLogp = new double[2 * chunk.Length];
            logProbs.Forward(sft, sftLogp);
            for (int b = 0; b < chunk.Length; b++) kl -= sftLogp[b];
        }
        return (kl / prompts.Length, gold / prompts.Length);
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> row, int token)
    {
        double m = double.NegativeInfinity, s = 0;
        foreach (float x in row) m = Math.Max(m, x);
        foreach (float x in row) s += Math.Exp(x - m);
        return row[token] - m - Math.Log(s);
    }
}
